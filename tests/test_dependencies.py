"""The project's own code runs from a fresh virtualenv: every module imports, and every
third-party import is brought in by a dependency pyproject.toml declares.

The second test catches what the first cannot when a package is present by luck (installed by
hand, or by some unrelated tool): it reads the imports and walks the declared dependencies.
labs/app is excluded: the sample app has its own requirements and virtualenv.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("infra", "labs", "bench")


def _project_files() -> list[Path]:
    files = [ROOT / "tasks.py"]
    for pkg in PACKAGES:
        files += [f for f in sorted((ROOT / pkg).rglob("*.py"))
                  if not f.relative_to(ROOT).as_posix().startswith("labs/app/")]
    return files


def _module_names() -> list[str]:
    """Dotted names of every importable module; ``__main__`` modules run programs, so skip."""
    names = []
    for f in _project_files():
        parts = list(f.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__main__":
            continue
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.append(".".join(parts))
    return names


def test_every_module_imports_in_this_environment() -> None:
    # One child interpreter: locust's import monkey-patches the stdlib, which must not leak
    # into the test process.
    code = (
        "import importlib, sys, traceback\n"
        "bad = []\n"
        "for name in sys.argv[1:]:\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception as exc:\n"
        "        bad.append(f'{name}: {type(exc).__name__}: {exc}')\n"
        "print('\\n'.join(bad))\n"
        "sys.exit(1 if bad else 0)\n"
    )
    names = _module_names()
    assert "infra.cluster.sim" in names and "tasks" in names
    # A locustfile is imported by Locust after gevent patched the stdlib: alone, as it runs.
    groups = [[n for n in names if not n.endswith("locustfile")],
              *([n] for n in names if n.endswith("locustfile"))]
    for group in groups:
        proc = subprocess.run([sys.executable, "-c", code, *group], cwd=ROOT,
                              capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, f"modules that do not import:\n{proc.stdout}"


def _requirement_name(req: str) -> str:
    return re.split(r"[\s\[<>=!~;]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _declared_closure() -> set[str]:
    """Distributions declared in pyproject.toml (all extras) and everything they require."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    todo = [_requirement_name(r) for r in project["dependencies"]]
    for extra in project.get("optional-dependencies", {}).values():
        todo += [_requirement_name(r) for r in extra]
    closure: set[str] = set()
    while todo:
        name = todo.pop()
        if name in closure:
            continue
        closure.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        todo += [_requirement_name(r) for r in requires if "extra ==" not in r]
    return closure


def _third_party_imports(path: Path) -> set[str]:
    # scripts/services/*.py are put on sys.path by the modules that use them.
    local = {*PACKAGES, "tasks", "tests", *(f.stem for f in ROOT.glob("scripts/**/*.py"))}
    tops: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            tops |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            tops.add(node.module.split(".")[0])
    return {t for t in tops if t not in sys.stdlib_module_names and t not in local}


def test_every_third_party_import_is_declared() -> None:
    closure = _declared_closure()
    owners = metadata.packages_distributions()
    undeclared: dict[str, list[str]] = {}
    for f in _project_files():
        for top in _third_party_imports(f):
            dists = {d.lower().replace("_", "-") for d in owners.get(top, [top])}
            if not dists & closure:
                undeclared.setdefault(top, []).append(f.relative_to(ROOT).as_posix())
    assert not undeclared, f"imported but not brought in by pyproject.toml: {undeclared}"


def test_the_declared_check_catches_an_undeclared_import(tmp_path: Path) -> None:
    # The check above must be able to fail: a module only this machine might have.
    fake = tmp_path / "m.py"
    fake.write_text("import cryptography\nimport yaml\nimport not_a_declared_thing\n")
    found = _third_party_imports(fake)
    closure = _declared_closure()
    assert "not_a_declared_thing" in found
    assert "not-a-declared-thing" not in closure
    assert "pyyaml" in closure and "cryptography" in closure
