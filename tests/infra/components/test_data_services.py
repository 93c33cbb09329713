"""Postgres, RabbitMQ, mail catcher and payment sandbox: objects and their wiring."""

from __future__ import annotations

from tests.infra.conftest import containers, env_of, find, rendered


def secret_keys(objects: list[dict], name: str) -> set[str]:
    return set(find(objects, "Secret", name)["stringData"])


def test_postgres_statefulset_claims_default_storage_and_probes_with_pg_isready() -> None:
    objects = rendered(4)
    sts = find(objects, "StatefulSet", "postgres")
    [claim] = sts["spec"]["volumeClaimTemplates"]
    assert "storageClassName" not in claim["spec"]  # the cluster's default class
    assert claim["spec"]["resources"]["requests"]["storage"] == "2Gi"
    assert find(objects, "Service", "postgres")["spec"]["clusterIP"] == "None"
    [pg] = containers(sts)
    assert pg["readinessProbe"]["exec"]["command"][0] == "pg_isready"
    refs = {e["valueFrom"]["secretKeyRef"]["key"] for e in env_of(pg).values()
            if "valueFrom" in e}
    assert refs <= secret_keys(objects, "postgres-credentials")


def test_postgres_claim_uses_a_named_class_when_given() -> None:
    sts = find(rendered(4, storageClass="fast"), "StatefulSet", "postgres")
    assert sts["spec"]["volumeClaimTemplates"][0]["spec"]["storageClassName"] == "fast"


def test_rabbitmq_has_management_port_and_credentials() -> None:
    objects = rendered(7)
    ports = {p["name"]: p["port"] for p in find(objects, "Service", "rabbitmq")["spec"]["ports"]}
    assert ports == {"amqp": 5672, "management": 15672}
    [mq] = containers(find(objects, "StatefulSet", "rabbitmq"))
    assert mq["image"].endswith("-management")
    assert env_of(mq)["RABBITMQ_DEFAULT_PASS"]["valueFrom"]["secretKeyRef"] == {
        "name": "rabbitmq-credentials", "key": "password"}


def test_mailpit_only_in_email_lessons_and_the_app_sends_to_it() -> None:
    assert not [o for o in rendered(4) if o["metadata"]["name"] == "mailpit"]
    objects = rendered(7)
    ports = {p["name"]: p["port"] for p in find(objects, "Service", "mailpit")["spec"]["ports"]}
    assert ports == {"smtp": 1025, "http": 8025}
    env = env_of(containers(find(objects, "Deployment", "worker"))[0])
    assert env["EMAIL_HOST"]["value"] == "mailpit"
    assert env["EMAIL_PORT"]["value"] == "1025"


def test_chapa_sandbox_shares_the_learners_test_key_with_the_app() -> None:
    objects = rendered(6)
    [sandbox] = containers(find(objects, "Deployment", "chapa-sandbox"))
    [api] = containers(find(objects, "Deployment", "api"))
    assert env_of(sandbox)["CHAPA_SANDBOX_SECRET_KEY"]["valueFrom"] == \
        env_of(api)["CHAPA_SECRET_KEY"]["valueFrom"]
    assert env_of(sandbox)["CHAPA_SANDBOX_WEBHOOK_SECRET"]["valueFrom"] == \
        env_of(api)["CHAPA_WEBHOOK_SECRET"]["valueFrom"]
    assert env_of(api)["CHAPA_BASE_URL"]["value"] == "http://chapa-sandbox:80"
    assert find(objects, "Service", "chapa-sandbox")["spec"]["ports"][0]["targetPort"] == 8080
