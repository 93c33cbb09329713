"""bench.api's wrk rounds: each row is the median run, every run kept beside it."""

from __future__ import annotations

import pytest

from bench.api import main, median_run

pytestmark = pytest.mark.unit


def test_a_row_is_the_median_run_with_every_run_beside_it() -> None:
    runs = [{"rps": 620.0, "p99_ms": 60.0}, {"rps": 310.0, "p99_ms": 140.0},
            {"rps": 540.0, "p99_ms": 80.0}]
    row = median_run(runs)
    assert (row["rps"], row["p99_ms"]) == (540.0, 80.0)  # p99 of that same run
    assert row["runs"] == runs  # in the order they ran


def test_one_run_is_reported_as_it_is() -> None:
    assert median_run([{"rps": 500.0, "p99_ms": 90.0}]) == {"rps": 500.0, "p99_ms": 90.0}


@pytest.mark.parametrize("repeat", ["0", "10"])
def test_rounds_out_of_range_are_refused(repeat: str, capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--repeat", repeat])
    assert exit_.value.code == 2 and "repeat must be 1..9" in capsys.readouterr().err
