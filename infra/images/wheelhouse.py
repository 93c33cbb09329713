"""Wheels for the offline images, built on the host.

pip inside a container build cannot verify the package index's TLS on this kind of machine, so
every wheel an image installs is built here first, by a Python of the image's version (3.13,
Debian trixie's), into a cached folder keyed by what was asked; builds then use `--no-index`.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

from infra.cluster.toolchain import cache_root

ROOT = Path(__file__).resolve().parents[2]
IMAGE_PYTHON = "3.13"  # Debian trixie's python3: compiled wheels must match its ABI (cp313)

Say = Callable[[str], None]


class WheelhouseError(RuntimeError):
    """No Python of the image's version, or pip could not build a wheel."""


def image_python() -> str:
    """A Python 3.13 on this machine: the sample app's venv, python3.13 on PATH, or pyenv's."""
    candidates = [str(ROOT / "labs" / "app" / ".venv" / "bin" / "python"),
                  shutil.which(f"python{IMAGE_PYTHON}") or "",
                  *sorted(glob.glob(os.path.expanduser(
                      f"~/.pyenv/versions/{IMAGE_PYTHON}*/bin/python{IMAGE_PYTHON}")))]
    for path in filter(None, candidates):
        probe = subprocess.run([path, "-c", "import sys; print(*sys.version_info[:2], sep='.')"],
                               capture_output=True, text=True, check=False)
        if probe.returncode == 0 and probe.stdout.strip() == IMAGE_PYTHON:
            return path
    raise WheelhouseError(
        f"building the offline images needs Python {IMAGE_PYTHON} (the images' Python) to "
        f"build their wheels: `bash scripts/install-test-deps.sh` sets one up, or install "
        f"python{IMAGE_PYTHON}")


def wheelhouse(name: str, requirements: Sequence[str], say: Say,
               files: Sequence[Path] = ()) -> Path:
    """A folder of wheels for `requirements` (pip arguments; `files` are hashed into the key)."""
    h = hashlib.sha256(IMAGE_PYTHON.encode())
    for part in requirements:
        h.update(part.encode())
    for f in files:
        h.update(f.read_bytes())
    out = cache_root() / "wheelhouse" / f"{name}-{h.hexdigest()[:12]}"
    if (out / ".complete").is_file():
        return out
    python = image_python()
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    say(f"wheels for {name}: pip wheel with {python}")
    done = subprocess.run([python, "-m", "pip", "wheel", "--quiet", "--wheel-dir", str(partial),
                           *requirements], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise WheelhouseError(f"pip wheel for {name} failed: {done.stderr.strip()[-600:]}")
    (partial / ".complete").write_text("\n".join(requirements))
    shutil.rmtree(out, ignore_errors=True)
    partial.rename(out)
    return out


def fill(context_wheelhouse: Path, source: Path) -> None:
    """Put `source`'s wheels into a build context's wheelhouse/ (hard links when possible)."""
    context_wheelhouse.mkdir(parents=True, exist_ok=True)
    for stale in context_wheelhouse.glob("*.whl"):
        stale.unlink()
    for wheel in source.glob("*.whl"):
        try:
            os.link(wheel, context_wheelhouse / wheel.name)
        except OSError:
            shutil.copy2(wheel, context_wheelhouse / wheel.name)
