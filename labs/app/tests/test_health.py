import pytest


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_ok_when_database_and_broker_answer(client, broker):
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    assert response.json()["checks"] == {"database": "ok", "broker": "ok"}


@pytest.mark.django_db
def test_readyz_503_when_broker_unreachable(client, settings):
    settings.TASK_BROKER = "rabbitmq"
    settings.CELERY_BROKER_URL = "amqp://guest:guest@127.0.0.1:1//"
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["broker"].startswith("error")


@pytest.mark.django_db
def test_readyz_ok_without_a_broker_when_the_database_answers(client, settings):
    """TASK_BROKER=none (lessons 1, 2, 5): only the database decides readiness."""
    settings.TASK_BROKER = "none"
    settings.CELERY_BROKER_URL = "amqp://guest:guest@127.0.0.1:1//"  # must not be tried
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    assert response.json() == {"status": "ok",
                               "checks": {"database": "ok", "broker": "not configured"}}


@pytest.mark.django_db
def test_readyz_503_without_a_broker_when_the_database_fails(client, settings, monkeypatch):
    from core import health

    settings.TASK_BROKER = "none"

    def down() -> str:
        raise ConnectionError("database down")

    monkeypatch.setattr(health, "_database", down)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": "error: ConnectionError: database down",
                                          "broker": "not configured"}


@pytest.mark.django_db
def test_metrics_count_requests(client):
    client.get("/healthz")
    response = client.get("/metrics")
    assert response.status_code == 200
    text = response.content.decode()
    assert 'django_http_requests_total{method="GET",status="200",view="healthz"}' in text
    assert "django_http_request_duration_seconds_bucket" in text


@pytest.mark.django_db
def test_openapi_schema_and_swagger(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/conversations/{conversation_pk}/messages/" in schema.content
    assert b"/api/payments/initiate/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()
