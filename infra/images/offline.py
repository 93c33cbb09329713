"""The offline image set: every image of labs/image_catalog.py that can be had without a
container registry, built here and pushed to the kind cluster's registry.

Root filesystems come from Debian trixie by debootstrap (cached as images), Python wheels from
the host (infra/images/wheelhouse.py). Each image is tagged with its own image ID, so a tag
names exactly one content and a changed Dockerfile, app copy or wheel gives a new tag (and a
rollout); unchanged inputs hit Docker's build cache and give the same tag again.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from infra.cluster import toolchain
from infra.cluster.kind_images import kit_dir, rootfs_image
from infra.filelock import exclusive
from infra.images.wheelhouse import ROOT, fill, wheelhouse
from labs.image_catalog import BY_ROLE

SUITE = "trixie"  # its python3 is 3.13 (Django 6 needs 3.12+), its postgresql 17
IMAGES = ROOT / "labs" / "images"
ROOTFS_PACKAGES: dict[str, tuple[str, ...]] = {
    "python": ("python3", "python3-venv", "ca-certificates", "tzdata"),
    "postgres": ("postgresql-17", "tzdata"),
    "rabbitmq": ("rabbitmq-server",),
}
REPOSITORY = "prodev-labs"  # images are <registry>/prodev-labs/<name>:<id>

Say = Callable[[str], None]


class ImageBuildError(RuntimeError):
    """A docker build or push of an offline image failed; the message says which and why."""


def _docker(*args: str, what: str) -> str:
    done = subprocess.run(["docker", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ImageBuildError(f"{what} failed: {(done.stderr or done.stdout).strip()[-800:]}")
    return done.stdout.strip()


def _build(context: Path, name: str, say: Say, dockerfile: Path | None = None,
           **build_args: str) -> str:
    """`docker build` (cached layers make a rebuild quick); the image ID."""
    say(f"image {name}: docker build")
    args = ["build", "-q", "-t", f"{REPOSITORY}/{name}:build"]
    for key, value in build_args.items():
        args += ["--build-arg", f"{key}={value}"]
    if dockerfile is not None:
        args += ["-f", str(dockerfile)]
    return _docker(*args, str(context), what=f"docker build of {name}").splitlines()[-1]


def _publish(image_id: str, name: str, registry: str) -> str:
    """Tag by content and push; the reference pods use."""
    ref = f"{registry}/{REPOSITORY}/{name}:{image_id.removeprefix('sha256:')[:12]}"
    _docker("tag", image_id, ref, what=f"docker tag {ref}")
    _docker("push", ref, what=f"docker push {ref} (is the kind cluster's registry running? "
                              "`invoke cluster up --driver kind` starts it)")
    return ref


def python_base(say: Say) -> str:
    rootfs = rootfs_image("lab-python", ROOTFS_PACKAGES["python"], say, suite=SUITE)
    return _build(IMAGES / "python", "python", say, ROOTFS=rootfs)


def _wheelhouse_context(src: Path, wheels: Path) -> Path:
    fill(src / "wheelhouse", wheels)
    return src


def build_api(say: Say, app_source: Path | None = None) -> str:
    """labs/app/Dockerfile (or a learner's copy of it) on the trixie Python base."""
    context = Path(app_source) if app_source else ROOT / "labs" / "app"
    requirements = context / "requirements.txt"
    wheels = wheelhouse("app", ["-r", str(requirements)], say, files=[requirements])
    return _build(_wheelhouse_context(context, wheels), "api", say,
                  BASE_IMAGE=python_base(say), OFFLINE="1")


def build_chapa_sandbox(say: Say) -> str:
    with tempfile.TemporaryDirectory() as tmp:  # the Dockerfile's context is the repo root
        ctx = Path(tmp)
        (ctx / "labs").mkdir()
        shutil.copy2(ROOT / "labs" / "__init__.py", ctx / "labs" / "__init__.py")
        shutil.copytree(ROOT / "labs" / "chapa_sandbox", ctx / "labs" / "chapa_sandbox",
                        ignore=shutil.ignore_patterns("__pycache__"))
        return _build(ctx, "chapa-sandbox", say, ctx / "labs" / "chapa_sandbox" / "Dockerfile",
                      BASE_IMAGE=python_base(say))


def build_postgres(say: Say) -> str:
    rootfs = rootfs_image("lab-postgres", ROOTFS_PACKAGES["postgres"], say, suite=SUITE)
    return _build(IMAGES / "postgres", "postgres", say, ROOTFS=rootfs)


def build_rabbitmq(say: Say) -> str:
    rootfs = rootfs_image("lab-rabbitmq", ROOTFS_PACKAGES["rabbitmq"], say, suite=SUITE)
    return _build(IMAGES / "rabbitmq", "rabbitmq", say, ROOTFS=rootfs)


def build_mailpit(say: Say) -> str:
    binary = toolchain.toolchain().mailpit  # built from source by `invoke toolchain`
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy2(IMAGES / "mailpit" / "Dockerfile", Path(tmp) / "Dockerfile")
        shutil.copy2(binary, Path(tmp) / "mailpit")
        return _build(Path(tmp), "mailpit", say, BASE=python_base(say))


def build_locust(say: Say) -> str:
    version = BY_ROLE["loadgen"].upstream.rpartition(":")[2]
    wheels = wheelhouse("locust", [f"locust=={version}"], say)
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy2(IMAGES / "locust" / "Dockerfile", Path(tmp) / "Dockerfile")
        fill(Path(tmp) / "wheelhouse", wheels)
        return _build(Path(tmp), "locust", say, BASE=python_base(say))


BUILDERS: dict[str, Callable[[Say], str]] = {
    "chapa_sandbox": build_chapa_sandbox,
    "postgres": build_postgres,
    "rabbitmq": build_rabbitmq,
    "mailpit": build_mailpit,
    "loadgen": build_locust,
}


# (role, registry, app source) -> reference, for this process: a cohort builds each image once.
_published: dict[tuple[str, str, str], str] = {}


def offline_images(roles: Iterable[str], registry: str, say: Say,
                   app_source: Path | None = None) -> dict[str, str]:
    """Role -> pushed reference for each of `roles` (ImageSet fields or "loadgen")."""
    refs: dict[str, str] = {}
    for role in dict.fromkeys(roles):
        image = BY_ROLE[role]
        if image.offline is None:
            raise ImageBuildError(f"{role} has no offline image: {image.why_not_offline}")
        key = (role, registry, str(app_source) if role == "api" and app_source else "")
        if key not in _published:
            # Two `lab up`s at once (two shells, labs brought up side by side) would
            # debootstrap into the same directory: the second waits, then finds it built.
            with exclusive(kit_dir() / "offline-images.lock"):
                built = build_api(say, app_source) if role == "api" else BUILDERS[role](say)
                _published[key] = _publish(built, image.offline, registry)
        refs[role] = _published[key]
    return refs
