"""The Pulumi program: stack config -> LabSpec -> LabEnvironment -> stack outputs."""

from __future__ import annotations

import pulumi

from infra.environment import LabEnvironment
from labs.secrets import GENERATED, GITHUB_RUNNER_TOKEN
from labs.spec import IMAGE_KEYS, LabSpec, SpecError, build_spec

CONFIG_NAMESPACE = "prodev-labs"
SPEC_KEYS = ("cohort", "learner", "lesson", "profile", "ciRunner", "ingressDomain",
             "ingressClass", "ingressNamespace", "registry", "buildImages", "githubRepo",
             "storageClass", "expires", "appSource", *IMAGE_KEYS.values())


def spec_from_stack() -> LabSpec:
    config = pulumi.Config(CONFIG_NAMESPACE)
    values = {key: config.get(key) for key in SPEC_KEYS if config.get(key) is not None}
    try:
        return build_spec(values)
    except SpecError as exc:
        raise pulumi.RunError(str(exc)) from None


def secrets_from_stack(spec: LabSpec) -> dict[str, pulumi.Output[str]]:
    config = pulumi.Config(CONFIG_NAMESPACE)
    found = {s.key: config.get_secret(s.key) for s in GENERATED}
    absent = sorted(k for k, v in found.items() if v is None)
    if absent:
        raise pulumi.RunError(
            f"stack {pulumi.get_stack()} has no {', '.join(absent)}: provision it with "
            "`invoke lab up`, which generates them once, or set each with "
            "`pulumi config set --secret prodev-labs:<key> <value>`")
    secrets = {k: v for k, v in found.items() if v is not None}
    if spec.deploys("ci_runner") and spec.ci_runner == "github-actions":
        token = config.get_secret(GITHUB_RUNNER_TOKEN)
        if token is None:
            raise pulumi.RunError("the GitHub Actions runner needs its registration token: "
                                  f"pulumi config set --secret prodev-labs:{GITHUB_RUNNER_TOKEN}")
        secrets[GITHUB_RUNNER_TOKEN] = token
    return secrets


def export_outputs(env: LabEnvironment) -> None:
    for key, value in env.outputs.items():
        pulumi.export(key, value)


def main() -> None:
    spec = spec_from_stack()
    export_outputs(LabEnvironment(spec, secrets_from_stack(spec)))
