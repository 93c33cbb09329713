"""Pulumi entry point (Pulumi.yaml `main: infra/`): one learner's lab environment."""

from infra.program import main

main()
