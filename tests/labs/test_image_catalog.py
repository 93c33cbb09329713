"""The image catalog: one place names every image, with what the offline set can and cannot
provide."""

from __future__ import annotations

from dataclasses import fields

from labs.image_catalog import BY_ROLE, CATALOG, unavailable_offline, upstream
from labs.spec import ImageSet, build_spec


def test_every_image_the_program_uses_is_in_the_catalog() -> None:
    roles = {f.name for f in fields(ImageSet)} | {"loadgen"}
    assert roles == {image.role for image in CATALOG}


def test_the_default_images_are_the_catalogs_upstream_set() -> None:
    images = build_spec({"lesson": 7, "learner": "ada"}).images
    assert images.postgres == upstream("postgres") == "postgres:17"
    assert images.rabbitmq == upstream("rabbitmq")
    assert images.mailpit == upstream("mailpit")
    assert images.api.endswith("/prodev-labs/api:latest")
    from infra.components.loadgen import IMAGE

    assert upstream("loadgen") == IMAGE


def test_only_the_ci_runners_cannot_be_had_offline_and_each_says_why() -> None:
    missing = unavailable_offline()
    assert set(missing) == {"jenkins", "github_runner"}
    assert all("reach" in why for why in missing.values())
    assert all(BY_ROLE[r].offline for r in ("api", "postgres", "rabbitmq", "mailpit",
                                             "chapa_sandbox", "loadgen"))
