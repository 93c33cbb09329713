"""Roster parsing (YAML, CSV) and validation: every problem at once, each with its location."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from labs.names import DNS1123_LABEL, MAX_LABEL, sanitise
from labs.roster import RosterError, load_roster, roster_from_data

pytestmark = pytest.mark.unit

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
IDS = ["abebe", "sara", "dawit", "hanna", "yonas"]


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def problems_of(path: Path, **kwargs) -> list[str]:
    with pytest.raises(RosterError) as info:
        load_roster(path, **kwargs)
    # The message carries every problem too, one per line, for the CLI to print as is.
    assert all(p in str(info.value) for p in info.value.problems)
    return info.value.problems


def one(learner_id: str = "abebe", **extra) -> dict:
    return {"id": learner_id, "name": "A Learner", "email": f"{learner_id}@example.com",
            **extra}


def test_example_yaml_loads() -> None:
    roster = load_roster(EXAMPLES / "cohort.yaml")
    assert (roster.cohort, roster.lesson, roster.expires) == ("demo", 4, date(2026, 12, 31))
    assert [lr.id for lr in roster.learners] == IDS
    assert roster.learner("abebe").github == "abebek"
    assert roster.learner("dawit").github is None
    specs = roster.specs()
    assert [s.namespace for s in specs] == [f"demo-{i}" for i in IDS]
    assert {s.lesson.number for s in specs} == {4}
    assert [s.profile.name for s in specs] == ["standard"] * 3 + ["large", "standard"]
    assert specs[0].expires == date(2026, 12, 31)


def test_example_csv_loads_the_same_learners() -> None:
    csv_roster = load_roster(EXAMPLES / "cohort.csv")
    yaml_roster = load_roster(EXAMPLES / "cohort.yaml")
    assert (csv_roster.cohort, csv_roster.lesson) == ("demo", 4)
    assert csv_roster.learners == yaml_roster.learners
    assert csv_roster.spec("hanna").profile.name == "large"
    assert csv_roster.spec("sara").profile.name == "standard"  # lesson 4's own profile


def test_lesson_and_cohort_arguments_override_the_file() -> None:
    roster = load_roster(EXAMPLES / "cohort.yaml", lesson=7, cohort="c8")
    assert (roster.cohort, roster.lesson) == ("c8", 7)
    assert roster.specs()[0].namespace == "c8-abebe"


def test_csv_takes_cohort_and_lesson_from_arguments(tmp_path: Path) -> None:
    path = write(tmp_path, "sheet.csv", "id,name,email\nmeron,Meron,meron@example.com\n")
    roster = load_roster(path, lesson=1, cohort="c9")
    assert roster.learner("meron").email == "meron@example.com"
    assert roster.specs()[0].namespace == "c9-meron"


def test_csv_from_a_spreadsheet(tmp_path: Path) -> None:
    # Byte-order mark, trailing commas on comment lines, column order and case, blank rows.
    text = ("\ufeff# cohort: c7,,,\n# lesson: 2,,,\n# exported from the class sheet\n"
            "Email,ID,Name,GitHub\nsara@example.com,sara,Sara T,@saratesfaye\n,,,\n")
    roster = load_roster(write(tmp_path, "c7.csv", text))
    assert (roster.cohort, roster.lesson) == ("c7", 2)
    assert roster.learner("sara").github == "saratesfaye"
    assert len(roster.learners) == 1


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, "cohort.yaml", """\
cohort: c7
lesson: 12
colour: red
learners:
  - id: abebe
    name: Abebe Kebede
    email: abebe@example.com
  - id: Abebe K
    name: Abebe K
    email: not-an-email
  - id: abebe
    name: Abebe again
    email: ABEBE@example.com
    profile: huge
    phone: "123"
  - name: No Id
  - just a string
""")
    found = problems_of(path)
    expected = [
        "cohort.yaml: colour: unknown key",
        "cohort.yaml: lesson: unknown lesson 12; lessons are 1, 2",
        "cohort.yaml line 8: learners[1].id: id 'Abebe K' must be lower-case letters",
        "cohort.yaml line 8: learners[1].email: 'not-an-email' is not an address",
        "cohort.yaml line 11: learners[2].id: 'abebe' is already used at "
        "cohort.yaml line 5: learners[0]",
        "cohort.yaml line 11: learners[2].email: 'ABEBE@example.com' is already used",
        "cohort.yaml line 11: learners[2].profile: unknown profile 'huge'",
        "cohort.yaml line 11: learners[2]: unknown key 'phone'",
        "cohort.yaml line 16: learners[3].id: missing",
        "cohort.yaml line 16: learners[3].email: missing",
        "cohort.yaml line 17: learners[4]: must be a mapping",
    ]
    for text in expected:
        assert any(p.startswith(text) for p in found), (text, found)
    assert len(found) == len(expected)


def test_csv_problems_name_their_line(tmp_path: Path) -> None:
    path = write(tmp_path, "cohort.csv", """\
# cohort: c7
# leson: 4
id,name,email,github,profile
ok,Ok,ok@example.com,,
Bad Id,Bad,bad@,-nope-,
ok,Dup,OK@example.com,,large,extra
""")
    found = problems_of(path)
    # File-wide problems first, then in line order.
    assert found[:2] == [
        "cohort.csv: lesson: missing (set `lesson:` in the roster or pass --lesson)",
        "cohort.csv line 2: unknown setting 'leson' (did you mean 'lesson'?)",
    ]
    for text in ("cohort.csv line 5: id: id 'Bad Id'", "cohort.csv line 5: email: 'bad@'",
                 "cohort.csv line 5: github: '-nope-' is not a GitHub user name",
                 "cohort.csv line 6: 1 more cell(s) than the header has",
                 "cohort.csv line 6: id: 'ok' is already used at cohort.csv line 4",
                 "cohort.csv line 6: email: 'OK@example.com' is already used"):
        assert any(p.startswith(text) for p in found), (text, found)


def test_csv_header_problems(tmp_path: Path) -> None:
    path = write(tmp_path, "c.csv", "# cohort: c7\n# lesson: 4\nid,name,mail\nx,X,x@example.com\n")
    assert problems_of(path) == ["c.csv line 3: unknown column 'mail' (allowed: id, name, "
                                 "email, github, profile)", "c.csv line 3: missing column 'email'"]


def test_missing_cohort_lesson_and_learners(tmp_path: Path) -> None:
    found = problems_of(write(tmp_path, "empty.yaml", "learners: []\n"))
    assert found == ["empty.yaml: cohort: missing (add a `cohort:` key or pass --cohort)",
                     "empty.yaml: lesson: missing (set `lesson:` in the roster or pass --lesson)",
                     "empty.yaml: no learners"]


def test_bad_lesson_argument_and_expiry(tmp_path: Path) -> None:
    path = write(tmp_path, "c.yaml", "cohort: c7\nexpires: soon\nprofile: huge\n"
                 "learners: [{id: a, name: A, email: a@example.com}]\n")
    found = problems_of(path, lesson=99)
    assert "--lesson: unknown lesson 99; lessons are 1, 2, 3, 4, 5, 6, 7, 8" in found
    assert "c.yaml: expires: 'soon' is not a date like 2026-12-31" in found
    assert any(p.startswith("c.yaml: profile: unknown profile 'huge'") for p in found)


def test_namespace_over_63_characters(tmp_path: Path) -> None:
    long_id = "x" * 61
    data = {"cohort": "c7", "lesson": 4, "learners": [one(long_id)]}
    with pytest.raises(RosterError) as info:
        roster_from_data(data, source="c.yaml")
    [problem] = info.value.problems
    assert problem.startswith("c.yaml: learners[0].id: namespace 'c7-xxx")
    assert "64 characters; at most 63" in problem


def test_bad_files(tmp_path: Path) -> None:
    assert problems_of(write(tmp_path, "r.txt", "")) == [
        "r.txt: a roster must be .yaml, .yml or .csv"]
    assert problems_of(write(tmp_path, "r.yaml", "cohort: ["))[0].startswith(
        "r.yaml: not valid YAML")
    assert problems_of(write(tmp_path, "r.yml", "- a\n")) == [
        "r.yml: must be a mapping with cohort and learners"]
    assert problems_of(tmp_path / "missing.yaml")[0].endswith("cannot be read: "
                                                               "No such file or directory")


def test_unknown_learner() -> None:
    roster = load_roster(EXAMPLES / "cohort.yaml")
    with pytest.raises(KeyError, match="no learner 'nobody' in cohort demo"):
        roster.learner("nobody")


# Ids from arbitrary text plus ones shaped like labels, so both branches are exercised.
ids = st.one_of(st.text(max_size=70),
                st.from_regex(r"[a-z0-9][-a-z0-9]{0,64}[a-z0-9]", fullmatch=True))


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(cohort=st.sampled_from(["c7", "demo", "spring-2026-backend"]), learner_id=ids)
def test_any_accepted_id_gives_a_valid_namespace(cohort: str, learner_id: str) -> None:
    data = {"cohort": cohort, "lesson": 4, "learners": [one(learner_id)]}
    try:
        roster = roster_from_data(data)
    except RosterError as exc:
        assert all(p.startswith("<roster>: learners[0]") for p in exc.problems)
        return
    namespace = roster.specs()[0].namespace
    assert DNS1123_LABEL.match(namespace) and len(namespace) <= MAX_LABEL


@given(raw=st.text(max_size=60))
def test_sanitised_names_are_accepted(raw: str) -> None:
    learner_id = sanitise(raw)
    assume(learner_id)
    roster = roster_from_data({"cohort": "c7", "lesson": 1, "learners": [one(learner_id)]})
    assert roster.learner(learner_id).id == learner_id
    assert roster.specs()[0].namespace == f"c7-{learner_id}"
