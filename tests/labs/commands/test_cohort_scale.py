"""The cohort command at 100 learners: one-screen board, a pool sized to the machine, a
simulated cluster that grows to fit."""

from __future__ import annotations

import pytest
from rich.console import Console

from infra import cohort as runner
from labs.commands.cohort import Board, sim_nodes_for

pytestmark = pytest.mark.unit


def rendered(board: Board) -> str:
    console = Console(width=120, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(board)
    return console.export_text()


def test_a_small_class_gets_a_row_per_learner() -> None:
    board = Board("cohort c5")
    for i in range(5):
        board.update(f"l{i}", runner.DONE if i else runner.FAILED, "boom" if not i else "ok")
    text = rendered(board)
    assert all(f"l{i}" in text for i in range(5)) and "boom" in text


def test_a_class_of_100_gets_summary_rows_with_every_failure() -> None:
    board = Board("cohort c100")
    for i in range(100):
        board.update(f"l{i:03d}", runner.QUEUED, "")
    for i in range(60):
        board.update(f"l{i:03d}", runner.DONE, "create 27 (20s)")
    for i in range(60, 63):
        board.update(f"l{i:03d}", runner.FAILED, f"quota exceeded {i}")
    for i in range(63, 75):
        board.update(f"l{i:03d}", runner.WORKING, "")
    text = rendered(board)
    assert len(text.splitlines()) < 25
    assert "63/100" in text
    assert all(f"quota exceeded {i}" in text for i in range(60, 63))
    assert "+6 more" in text  # 12 working, 6 shown
    assert "queued 25" in text and "done 60" in text and "failed 3" in text


def test_the_pool_takes_several_learners_per_core_within_memory() -> None:
    gib = 2**30
    assert runner.default_parallel(100, cores=2, available_memory=16 * gib) == 12
    assert runner.default_parallel(3, cores=2, available_memory=16 * gib) == 3
    assert runner.default_parallel(100, cores=2, available_memory=2 * gib) == 3
    assert runner.default_parallel(100, cores=2, available_memory=0) == 1


def test_a_class_of_100_on_the_default_simulated_cluster_gets_the_nodes_it_needs() -> None:
    from labs.capacity import plan_capacity
    from labs.catalog import default_catalog
    from labs.sizing import footprint

    catalog = default_catalog()
    lesson = catalog.lessons[4]
    need = footprint(lesson, catalog.profile(lesson.profile))
    nodes = [{"metadata": {"name": f"n{i}"},
              "status": {"allocatable": {"cpu": "16", "memory": "64Gi", "pods": "110"}}}
             for i in range(3)]  # `invoke cluster up --driver sim`'s defaults
    fit = plan_capacity([need] * 100, nodes)
    assert not fit.fits
    hint = sim_nodes_for(fit)
    assert hint == "invoke cluster up --driver sim --nodes 6 --node-cpu 16 --node-memory 64Gi"

    def sim_nodes(count: int) -> list[dict]:
        return [{"metadata": {"name": f"n{i}"}, "status": nodes[0]["status"]}
                for i in range(count)]

    # The hint is the fewest nodes that hold the class: one fewer does not.
    assert plan_capacity([need] * 100, sim_nodes(6)).fits
    assert not plan_capacity([need] * 100, sim_nodes(5)).fits
