"""Cohort rosters (YAML, or CSV from a spreadsheet) -> validated learners -> one LabSpec each.

Everything is checked before anything touches a cluster, and every problem is reported at once,
each with its file and line, so an instructor fixes the whole roster in one pass.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from labs.catalog import Catalog, default_catalog
from labs.names import MAX_LABEL, label_problem, namespace_for
from labs.problems import ProblemsError
from labs.spec import LabSpec, SpecError, build_spec

ROSTER_KEYS = ("cohort", "lesson", "profile", "expires", "learners")
LEARNER_KEYS = ("id", "name", "email", "github", "profile")
REQUIRED_LEARNER_KEYS = ("id", "name", "email")
# Settings a CSV roster may carry in `# key: value` comment lines above its header.
CSV_SETTINGS = ("cohort", "lesson", "profile", "expires")

# Deliberately loose (local@domain.tld): the address is only for contact, never delivered to.
EMAIL = re.compile(r"^[^@\s]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                   r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}$")
# GitHub's own rule: alphanumerics and single hyphens, no leading/trailing hyphen, <= 39 chars.
GITHUB_USER = re.compile(r"^[A-Za-z0-9](?:-?[A-Za-z0-9]){0,38}$")


class RosterError(ProblemsError):
    """The roster is invalid; `problems` lists each one as '<file> [line N]: field: what'."""

    heading = "invalid roster"


@dataclass(frozen=True)
class Learner:
    id: str  # the learner name: a DNS-1123 label, part of the namespace
    name: str
    email: str
    github: str | None = None
    profile: str | None = None  # overrides the roster's (and the lesson's) profile


@dataclass(frozen=True)
class Roster:
    cohort: str
    lesson: int
    learners: tuple[Learner, ...]
    profile: str | None = None  # None: each lesson's own profile
    expires: date | None = None
    source: str = "<roster>"
    # Kept so specs() validates against the catalog the roster was checked with.
    catalog: Catalog | None = field(default=None, compare=False, repr=False)

    def learner(self, learner_id: str) -> Learner:
        for learner in self.learners:
            if learner.id == learner_id:
                return learner
        raise KeyError(f"no learner {learner_id!r} in cohort {self.cohort} "
                       f"(learners: {', '.join(lr.id for lr in self.learners)})")

    def profile_for(self, learner: Learner) -> str | None:
        return learner.profile or self.profile

    def settings(self, learner: Learner) -> dict[str, Any]:
        """The build_spec values (stack config keys) for one learner."""
        values: dict[str, Any] = {"cohort": self.cohort, "learner": learner.id,
                                  "lesson": self.lesson}
        if (profile := self.profile_for(learner)) is not None:
            values["profile"] = profile
        if self.expires is not None:
            values["expires"] = self.expires.isoformat()
        return values

    def spec(self, learner_id: str) -> LabSpec:
        return build_spec(self.settings(self.learner(learner_id)), self.catalog)

    def specs(self) -> list[LabSpec]:
        return [build_spec(self.settings(lr), self.catalog) for lr in self.learners]


# ---------------------------------------------------------------------------------------------
# Loading


def load_roster(path: Path, lesson: int | None = None, catalog: Catalog | None = None,
                cohort: str | None = None) -> Roster:
    """Read a .yaml/.yml/.csv roster; `lesson` and `cohort` override the file's own values."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in {".yaml", ".yml", ".csv"}:
        raise RosterError([f"{path.name}: a roster must be .yaml, .yml or .csv"])
    try:
        # utf-8-sig: spreadsheet exports often start with a byte-order mark.
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise RosterError([f"{path}: cannot be read: {exc.strerror}"]) from None
    except UnicodeDecodeError:
        raise RosterError([f"{path.name}: is not UTF-8 text (save the sheet as UTF-8 CSV)"]
                          ) from None
    parse = _parse_csv if suffix == ".csv" else _parse_yaml
    return _validate(parse(text, path.name), lesson=lesson, cohort=cohort, catalog=catalog)


def roster_from_data(data: Any, source: str = "<roster>", lesson: int | None = None,
                     catalog: Catalog | None = None, cohort: str | None = None) -> Roster:
    """Validate an already-parsed YAML-shaped roster (a mapping with `learners`)."""
    return _validate(_from_mapping(data, source, lines={}), lesson=lesson, cohort=cohort,
                     catalog=catalog)


@dataclass(frozen=True)
class _Raw:
    """A roster as read, before validation: where each part came from, for the messages."""

    source: str
    settings: Mapping[str, Any]
    setting_where: Mapping[str, str]
    learners: tuple[tuple[str, Any], ...]  # (location, raw learner mapping)
    problems: tuple[str, ...] = ()


def _from_mapping(data: Any, source: str, lines: Mapping[int, int]) -> _Raw:
    if not isinstance(data, Mapping):
        # Nothing else can be checked: report just this, not a cascade of "missing".
        raise RosterError([f"{source}: must be a mapping with cohort and learners"])
    problems = [f"{source}: {key}: unknown key (allowed: {', '.join(ROSTER_KEYS)})"
                for key in sorted(map(str, set(data) - set(ROSTER_KEYS)))]
    settings = {k: data[k] for k in ROSTER_KEYS if k in data and k != "learners"}
    learners = data.get("learners")
    if learners is None:
        learners = []
    elif not isinstance(learners, list):
        problems.append(f"{source}: learners: must be a list of learners")
        learners = []

    def where(i: int) -> str:
        line = f" line {lines[i]}" if i in lines else ""
        return f"{source}{line}: learners[{i}]"

    return _Raw(source, settings, {k: f"{source}: {k}" for k in settings},
                tuple((where(i), item) for i, item in enumerate(learners)), tuple(problems))


def _parse_yaml(text: str, source: str) -> _Raw:
    try:
        data = yaml.safe_load(text)
        node = yaml.compose(text)
    except yaml.YAMLError as exc:
        raise RosterError([f"{source}: not valid YAML: {exc}"]) from None
    return _from_mapping(data, source, _learner_lines(node))


def _learner_lines(node: yaml.Node | None) -> dict[int, int]:
    """1-based line of each item under `learners`, so messages point into the file."""
    if not isinstance(node, yaml.MappingNode):
        return {}
    for key, value in node.value:
        if key.value == "learners" and isinstance(value, yaml.SequenceNode):
            return {i: item.start_mark.line + 1 for i, item in enumerate(value.value)}
    return {}


def _parse_csv(text: str, source: str) -> _Raw:
    lines = text.splitlines()
    settings: dict[str, Any] = {}
    where: dict[str, str] = {}
    problems: list[str] = []
    skip = 0
    # Leading `# key: value` lines carry roster settings; other comments are left alone, but
    # a near-miss key (`# leson: 4`) is reported rather than silently ignored.
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            break
        skip = number
        match = re.match(r"#\s*([A-Za-z_]+)\s*:\s*(.*?)\s*,*$", stripped)
        if not match:
            continue
        key, value = match.group(1).lower(), match.group(2)
        if key in CSV_SETTINGS:
            settings[key], where[key] = value, f"{source} line {number}: {key}"
        elif close := difflib.get_close_matches(key, CSV_SETTINGS, n=1):
            problems.append(f"{source} line {number}: unknown setting {key!r} "
                            f"(did you mean {close[0]!r}?)")

    reader = csv.DictReader(io.StringIO("\n".join(lines[skip:])), restkey="\0extra")
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    if not header:
        raise RosterError([*problems, f"{source}: no header line (needs "
                           f"{', '.join(LEARNER_KEYS)})"])
    reader.fieldnames = header
    header_line = skip + 1
    settings_problems = len(problems)
    for column in header:
        if column not in LEARNER_KEYS:
            problems.append(f"{source} line {header_line}: unknown column {column!r} "
                            f"(allowed: {', '.join(LEARNER_KEYS)})")
    for column in REQUIRED_LEARNER_KEYS:
        if column not in header:
            problems.append(f"{source} line {header_line}: missing column {column!r}")
    if len(set(header)) != len(header):
        problems.append(f"{source} line {header_line}: a column appears twice")
    if len(problems) != settings_problems:  # rows cannot be read against a broken header
        return _Raw(source, settings, where, (), tuple(problems))

    learners = []
    for row in reader:
        location = f"{source} line {skip + reader.line_num}"
        extra = row.pop("\0extra", None)
        cells = {k: (v or "").strip() for k, v in row.items()}
        if not any(cells.values()) and not extra:
            continue  # spreadsheets export empty trailing rows as ',,,,'
        if extra:
            problems.append(f"{location}: {len(extra)} more cell(s) than the header has")
        # An empty optional cell means "not given", as an absent YAML key does.
        learners.append((location, {k: v for k, v in cells.items()
                                    if v or k in REQUIRED_LEARNER_KEYS}))
    return _Raw(source, settings, where, tuple(learners), tuple(problems))


# ---------------------------------------------------------------------------------------------
# Validation


def _text(value: Any) -> str | None:
    """A scalar as text (YAML reads `id: 2024` as an int); None for missing or structured."""
    if value is None or isinstance(value, (Mapping, list, bool)):
        return None
    return str(value).strip()


def _lesson_number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = _text(value)
    return int(text) if text and text.isdigit() else None


def _validate(raw: _Raw, *, lesson: int | None, cohort: str | None,
              catalog: Catalog | None) -> Roster:
    catalog = catalog or default_catalog()
    problems = list(raw.problems)
    src = raw.source

    def at(key: str) -> str:
        return raw.setting_where.get(key, f"{src}: {key}")

    cohort_name = cohort if cohort is not None else _text(raw.settings.get("cohort"))
    cohort_at = "--cohort" if cohort is not None else at("cohort")
    if not cohort_name:
        hint = "a `# cohort: NAME` line above the header" if src.endswith(".csv") \
            else "a `cohort:` key"
        problems.append(f"{cohort_at}: missing (add {hint} or pass --cohort)")
    elif (problem := label_problem(cohort_name, "cohort")) is not None:
        problems.append(f"{cohort_at}: {problem}")
        cohort_name = None

    lesson_value = lesson if lesson is not None else raw.settings.get("lesson")
    lesson_at = "--lesson" if lesson is not None else at("lesson")
    number = None
    if lesson_value is None or lesson_value == "":
        problems.append(f"{lesson_at}: missing (set `lesson:` in the roster or pass --lesson)")
    elif (number := _lesson_number(lesson_value)) is None:
        problems.append(f"{lesson_at}: {lesson_value!r} is not a lesson number")
    elif number not in catalog.lessons:
        known = ", ".join(str(n) for n in sorted(catalog.lessons))
        problems.append(f"{lesson_at}: unknown lesson {number}; lessons are {known}")
        number = None

    def profile_problem(value: Any) -> str | None:
        name = _text(value)
        if not name or name not in catalog.profiles:
            return (f"unknown profile {value!r}; profiles are "
                    f"{', '.join(sorted(catalog.profiles))}")
        return None

    profile = _text(raw.settings.get("profile")) or None
    if profile is not None and (problem := profile_problem(profile)):
        problems.append(f"{at('profile')}: {problem}")

    expires = None
    if raw.settings.get("expires") not in (None, ""):
        value = raw.settings["expires"]
        try:
            expires = value if isinstance(value, date) else date.fromisoformat(str(value))
        except ValueError:
            problems.append(f"{at('expires')}: {value!r} is not a date like 2026-12-31")

    if not raw.learners and not raw.problems:
        problems.append(f"{src}: no learners")

    learners: list[Learner] = []
    seen_ids: dict[str, str] = {}
    seen_emails: dict[str, str] = {}
    for location, item in raw.learners:
        learner = _learner(location, item, cohort_name, profile_problem, problems)
        if learner is not None:
            learners.append(learner)
        if not isinstance(item, Mapping):
            continue
        # Checked on the raw values, so a duplicate is reported even beside other problems.
        # Addresses differing only in case reach the same person.
        for key, seen, norm in (("id", seen_ids, str), ("email", seen_emails, str.lower)):
            if not (given := _text(item.get(key))):
                continue
            if norm(given) in seen:
                problems.append(f"{_at(location, key)}: {given!r} is already used at "
                                f"{seen[norm(given)]}")
            else:
                seen[norm(given)] = location

    if problems or cohort_name is None or number is None:
        raise RosterError(_in_file_order(problems))
    roster = Roster(cohort=cohort_name, lesson=number, learners=tuple(learners),
                    profile=profile, expires=expires, source=src, catalog=catalog)
    # Last line of defence: whatever build_spec would refuse later is refused now.
    for (location, _), learner in zip(raw.learners, roster.learners, strict=True):
        try:
            build_spec(roster.settings(learner), catalog)
        except SpecError as exc:
            problems.extend(f"{location}: {p}" for p in exc.problems)
    if problems:
        raise RosterError(problems)
    return roster


def _in_file_order(problems: list[str]) -> list[str]:
    """Problems by line (stable, so file-wide ones stay first), as an editor walks the file."""
    def line(problem: str) -> int:
        match = re.match(r".*? line (\d+):", problem)
        return int(match.group(1)) if match else 0
    return sorted(problems, key=line)


def _at(location: str, key: str) -> str:
    """A field's location: `x.yaml line 8: learners[2].id` or `x.csv line 5: id`."""
    return f"{location}.{key}" if location.endswith("]") else f"{location}: {key}"


def _learner(location: str, item: Any, cohort: str | None,
             profile_problem: Callable[[Any], str | None],
             problems: list[str]) -> Learner | None:
    """One learner entry, or None after adding its problems."""
    if not isinstance(item, Mapping):
        problems.append(f"{location}: must be a mapping with {', '.join(REQUIRED_LEARNER_KEYS)}")
        return None
    start = len(problems)
    for key in sorted(map(str, set(item) - set(LEARNER_KEYS))):
        problems.append(f"{location}: unknown key {key!r} (allowed: {', '.join(LEARNER_KEYS)})")
    values = {key: _text(item.get(key)) for key in LEARNER_KEYS}
    for key in REQUIRED_LEARNER_KEYS:
        if not values[key]:
            problems.append(f"{_at(location, key)}: missing")

    learner_id, email, github = values["id"], values["email"], values["github"]
    if learner_id:
        if (problem := label_problem(learner_id, "id")) is not None:
            problems.append(f"{_at(location, 'id')}: {problem}")
        elif cohort and len(namespace := namespace_for(cohort, learner_id)) > MAX_LABEL:
            problems.append(f"{_at(location, 'id')}: namespace {namespace!r} is {len(namespace)} "
                            f"characters; at most {MAX_LABEL} are allowed (shorten the id "
                            "or the cohort)")
    if email and not EMAIL.match(email):
        problems.append(f"{_at(location, 'email')}: {email!r} is not an address like "
                        "name@example.com")
    if github and not GITHUB_USER.match(github.removeprefix("@")):
        problems.append(f"{_at(location, 'github')}: {github!r} is not a GitHub user name")
    if item.get("profile") is not None and (problem := profile_problem(item["profile"])):
        problems.append(f"{_at(location, 'profile')}: {problem}")

    if len(problems) != start:
        return None
    assert learner_id and values["name"] and email  # checked above; narrows the types
    return Learner(id=learner_id, name=values["name"], email=email,
                   github=github.removeprefix("@") if github else None,
                   profile=values["profile"] or None)

