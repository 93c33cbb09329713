"""Images built from this repository with pulumi-docker and pushed to the cluster registry.

Only built when the spec asks (`buildImages`, set by `lab up` on kind, with the API built from
the learner's app copy (`appSource`) in lessons about its code); otherwise the image
references of the spec are used as given (a prebuilt image, or the simulated cluster, whose
pods never pull).
"""

from __future__ import annotations

from pathlib import Path

import pulumi

from labs.spec import LabSpec

ROOT = Path(__file__).resolve().parents[2]
# ImageSet field -> build context, for the images this repository builds.
CONTEXTS: dict[str, Path] = {
    "api": ROOT / "labs" / "app",
    "chapa_sandbox": ROOT / "labs" / "chapa_sandbox",
    "jenkins": ROOT / "labs" / "ci" / "jenkins",
}
# Which component needs which built image.
NEEDED_BY: dict[str, str] = {"api": "api", "chapa_sandbox": "chapa_sandbox",
                             "jenkins": "ci_runner"}


class AppImages(pulumi.ComponentResource):
    """Image references for the built images, as Outputs (digests when built)."""

    def __init__(self, name: str, spec: LabSpec,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("prodevlabs:index:AppImages", name, None, opts)
        self.refs: dict[str, pulumi.Output[str]] = {}
        contexts = dict(CONTEXTS)
        if spec.app_source:  # the learner's own copy of the app, for lessons about its code
            contexts["api"] = Path(spec.app_source)
        for field, context in contexts.items():
            ref: str = getattr(spec.images, field)
            wanted = spec.deploys(NEEDED_BY[field]) and (
                field != "jenkins" or spec.ci_runner == "jenkins")
            if spec.build_images and wanted:
                import pulumi_docker as docker  # only needed (with its plugin) when building

                image = docker.Image(
                    f"{name}-{field}",
                    image_name=ref,
                    build=docker.DockerBuildArgs(context=str(context),
                                                 dockerfile=str(context / "Dockerfile"),
                                                 platform="linux/amd64"),
                    opts=pulumi.ResourceOptions(parent=self))
                self.refs[field] = image.repo_digest.apply(lambda d, r=ref: d or r)
            else:
                self.refs[field] = pulumi.Output.from_input(ref)
        self.register_outputs({})
