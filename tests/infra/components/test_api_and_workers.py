"""The sample API, its migration Job, workers and beat; and the app's env contract."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from infra.components.app_env import SECRET_REFS
from labs.app.envcontract import CELERY_APP, VARIABLES
from tests.infra.conftest import containers, env_of, find, rendered

APP_DIR = Path(__file__).resolve().parents[3] / "labs" / "app"


def names_read_by_app() -> set[str]:
    """Import the app's settings with `envcontract.value` traced: the names it really reads."""
    probe = (
        "import json, sys, envcontract\n"
        "seen = set()\n"
        "real = envcontract.value\n"
        "def traced(name):\n"
        "    seen.add(name)\n"
        "    return real(name)\n"
        "envcontract.value = traced\n"
        "import config.settings\n"
        "print(json.dumps(sorted(seen)))\n"
    )
    env = {**os.environ, "DJANGO_SECRET_KEY": "contract-test"}
    python = APP_DIR / ".venv" / "bin" / "python"  # made by scripts/install-test-deps.sh
    assert python.exists(), "run scripts/install-test-deps.sh: the app has its own venv"
    out = subprocess.run([str(python), "-c", probe], cwd=APP_DIR, env=env, check=True,
                         capture_output=True, text=True).stdout
    return set(json.loads(out.splitlines()[-1]))


def test_env_contract_program_sets_exactly_what_the_app_reads() -> None:
    contract = {v.name for v in VARIABLES}
    assert names_read_by_app() == contract
    objects = rendered(7)
    for kind, name in [("Deployment", "api"), ("Deployment", "worker"), ("Deployment", "beat"),
                       ("Job", None)]:
        [container] = containers(find(objects, kind, name))
        assert set(env_of(container)) == contract, f"{kind} {name}"


CREDENTIALS = {v.name for v in VARIABLES if v.secret} | set(SECRET_REFS)


def app_containers(objects: list[dict]) -> list[tuple[str, dict]]:
    """(kind/name, container) of every workload running the app image (api, Job, workers)."""
    found = []
    for obj in objects:
        if obj["kind"] not in ("Deployment", "Job", "StatefulSet"):
            continue
        for container in containers(obj):
            if set(env_of(container)) & {"DJANGO_SECRET_KEY"}:
                found.append((f"{obj['kind']}/{obj['metadata']['name']}", container))
    return found


@pytest.mark.parametrize("lesson", [1, 2, 4, 5, 6, 7, 8])
def test_no_credential_is_a_plain_value_in_any_lesson(lesson: int) -> None:
    workloads = app_containers(rendered(lesson))
    assert workloads
    for where, container in workloads:
        plain = sorted(name for name, env in env_of(container).items()
                       if name in CREDENTIALS and "valueFrom" not in env)
        assert plain == [], f"lesson {lesson} {where}: credentials in plain env: {plain}"


def test_lessons_without_rabbitmq_carry_no_broker_credentials() -> None:
    for lesson in (1, 2, 5):
        for where, container in app_containers(rendered(lesson)):
            env = env_of(container)
            assert "RABBITMQ_PASSWORD" not in env and "RABBITMQ_USER" not in env, where
    [api] = containers(find(rendered(4), "Deployment", "api"))
    assert env_of(api)["RABBITMQ_PASSWORD"]["valueFrom"]["secretKeyRef"]["key"] == "password"


@pytest.mark.parametrize(("lesson", "broker"), [(1, "none"), (2, "none"), (5, "none"),
                                               (4, "rabbitmq"), (6, "rabbitmq"),
                                               (7, "rabbitmq"), (8, "rabbitmq")])
def test_app_is_told_whether_a_broker_is_deployed(lesson: int, broker: str) -> None:
    """No RabbitMQ: TASK_BROKER=none, so /readyz does not wait for a broker on localhost."""
    for where, container in app_containers(rendered(lesson)):
        assert env_of(container)["TASK_BROKER"] == {"name": "TASK_BROKER",
                                                      "value": broker}, where


def app_settings(lesson: int, expression: str) -> str:
    """`expression` over the app's settings loaded from lesson's API env (secrets stubbed)."""
    [api] = containers(find(rendered(lesson), "Deployment", "api"))
    env = {name: e.get("value", "from-a-secret") for name, e in env_of(api).items()}
    python = APP_DIR / ".venv" / "bin" / "python"
    return subprocess.run([str(python), "-c", f"import config.settings as s; print({expression})"],
                          cwd=APP_DIR, env={"PATH": os.environ["PATH"], **env}, check=True,
                          capture_output=True, text=True).stdout.strip()


def test_app_settings_follow_the_env_of_lessons_with_and_without_rabbitmq() -> None:
    """No broker at all: tasks run eagerly, nothing reaches for amqp://localhost."""
    assert app_settings(1, "s.TASK_BROKER, s.CELERY_BROKER_URL, s.CELERY_TASK_ALWAYS_EAGER") \
        == "none memory:// True"
    assert app_settings(4, "s.TASK_BROKER, s.CELERY_BROKER_URL.split('@')[-1], "
                           "s.CELERY_TASK_ALWAYS_EAGER") \
        == "rabbitmq rabbitmq:5672/%2F False"


def test_secret_env_points_at_existing_secret_keys() -> None:
    objects = rendered(6)
    secrets = {o["metadata"]["name"]: set(o["stringData"]) for o in objects
               if o["kind"] == "Secret"}
    [api] = containers(find(objects, "Deployment", "api"))
    for env in env_of(api).values():
        if "valueFrom" in env:
            ref = env["valueFrom"]["secretKeyRef"]
            assert ref["key"] in secrets[ref["name"]], env["name"]


def test_api_service_targets_the_container_port_and_probes_health() -> None:
    objects = rendered(4)
    svc = find(objects, "Service", "api")["spec"]
    assert svc["selector"] == {"app.kubernetes.io/name": "api"}
    assert svc["ports"] == [{"name": "http", "port": 80, "targetPort": 8000}]
    [api] = containers(find(objects, "Deployment", "api"))
    assert api["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert api["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert env_of(api)["POSTGRES_HOST"]["value"] == "postgres"
    assert env_of(api)["RABBITMQ_HOST"]["value"] == "rabbitmq"


def test_migration_job_runs_migrate_with_the_same_image_and_is_named_per_image() -> None:
    objects = rendered(4)
    job = find(objects, "Job")
    [migrate] = containers(job)
    [api] = containers(find(objects, "Deployment", "api"))
    assert migrate["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert migrate["image"] == api["image"]
    other = find(rendered(4, imageApi="registry.local/api:2.0"), "Job")
    assert other["metadata"]["name"] != job["metadata"]["name"]


def test_ingress_host_is_learner_under_domain() -> None:
    ingress = find(rendered(4, ingressDomain="class.example"), "Ingress", "api")
    [rule] = ingress["spec"]["rules"]
    assert rule["host"] == "abebe.class.example"
    assert rule["http"]["paths"][0]["backend"]["service"] == {"name": "api",
                                                              "port": {"number": 80}}


def test_lesson_eight_autoscales_api_and_workers() -> None:
    hpas = {o["metadata"]["name"]: o["spec"] for o in rendered(8)
            if o["kind"] == "HorizontalPodAutoscaler"}
    assert set(hpas) == {"api", "worker"}
    assert hpas["api"]["minReplicas"] == 2 and hpas["api"]["maxReplicas"] == 8
    assert not [o for o in rendered(4) if o["kind"] == "HorizontalPodAutoscaler"]


def test_workers_run_celery_of_the_app_and_beat_only_where_scheduled() -> None:
    [worker] = containers(find(rendered(4), "Deployment", "worker"))
    assert worker["command"][:4] == ["celery", "-A", CELERY_APP, "worker"]
    assert not [o for o in rendered(4) if o["metadata"]["name"] == "beat"]
    [beat] = containers(find(rendered(7), "Deployment", "beat"))
    assert beat["command"][3] == "beat"


def test_lesson_two_switches_on_the_four_middlewares() -> None:
    [api] = containers(find(rendered(2), "Deployment", "api"))
    assert env_of(api)["LAB_MIDDLEWARE"]["value"] == \
        "request_logging,access_hours,post_rate_limit,role_permission"
