"""What a CI stage does, read from shell commands: shared by the Jenkinsfile and workflow checks.

Both pipelines run the same six stages, in this order. A command is classified by the tool it
runs (pip installing requirements, ruff/flake8, pytest, docker build/push), so a stage is
recognised by its behaviour whatever it is called.
"""

from __future__ import annotations

import re

STAGES = ("checkout", "install", "lint", "test", "build", "push")

_PIP = r"(?:\bpip3?|-m\s+pip|\buv\s+pip)\s+install\b[^\n;&|]*?"
INSTALL = re.compile(
    _PIP + r"(?:\s(?:-r|--requirement)[=\s]*\S+|\s(?:-e\s+)?\.(?:\[[^\]]*\])?(?=[\s;&|]|$))"
    r"|\buv\s+sync\b|\bpoetry\s+install\b|\bpipenv\s+(?:install|sync)\b",
    re.MULTILINE,
)
# `pip install ruff pytest` names tools without running them: drop install commands first.
_INSTALL_COMMAND = re.compile(r"(?:\bpip3?|-m\s+pip|\buv\s+pip)\s+install\b[^\n;&|]*")
LINT = re.compile(r"\b(?:ruff|flake8|pylint)\b")
TEST = re.compile(r"\bpytest\b")
JUNIT_XML = re.compile(r"--junit-?xml(?:=|\s+)[\"']?([^\s\"';&|]+)")
_ENGINES = r"\b(?:docker|podman|buildah)"
BUILD = re.compile(_ENGINES + r"\s+(?:image\s+|buildx\s+)?(?:build|bud)\b|/kaniko/executor\b")
PUSH = re.compile(_ENGINES + r"\s+(?:image\s+)?push\b|\bbuildx\s+build\b[^\n]*\s--push\b"
                  r"|/kaniko/executor\b(?![^\n]*--no-push)")

COMMANDS = {"install": INSTALL, "lint": LINT, "test": TEST, "build": BUILD, "push": PUSH}


def command_stages(text: str) -> set[str]:
    """Stages (other than checkout) that a shell script performs."""
    found = {"install"} if INSTALL.search(text) else set()
    ran = _INSTALL_COMMAND.sub(" ", text)
    return found | {stage for stage, pattern in COMMANDS.items()
                    if stage != "install" and pattern.search(ran)}


def junit_paths(text: str) -> list[str]:
    """Where pytest writes its JUnit XML report (--junitxml=PATH) in a shell script."""
    return JUNIT_XML.findall(text)


def _glob_regex(pattern: str) -> re.Pattern[str]:
    """Ant/minimatch glob (`**/` any directories, `*` within one) as a regex."""
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + "$")


def _norm(path: str) -> str:
    path = path.strip().strip("\"'")
    while path.startswith("./"):
        path = path[2:]
    return path.rstrip("/")


def covers(pattern: str, path: str) -> bool:
    """Does a report/upload pattern (a file, a directory or a glob) take in `path`?

    Paths built from variables (`${...}`, `$VAR`) cannot be resolved here and are accepted.
    """
    pattern, path = _norm(pattern), _norm(path)
    if "$" in pattern or "$" in path:
        return True
    if pattern in ("", ".") or pattern == path or path.startswith(pattern + "/"):
        return True
    return bool(_glob_regex(pattern).match(path))
