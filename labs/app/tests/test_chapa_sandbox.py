"""The sandbox speaks Chapa's contract: keys, validation messages, shapes, statuses."""

import pytest
import requests

_sandbox = pytest.importorskip("labs.chapa_sandbox")
ChapaSandbox, generate_test_key = _sandbox.ChapaSandbox, _sandbox.generate_test_key


@pytest.fixture(scope="module")
def sandbox():
    with ChapaSandbox(secret_key="") as server:  # any well-formed test key
        yield server


def test_test_key_format():
    key = generate_test_key()
    assert key.startswith("CHASECK_TEST-") and len(key) == len("CHASECK_TEST-") + 32


def test_invalid_key_is_401_in_chapas_shape(sandbox):
    for auth in ({}, {"Authorization": "Bearer CHASECK-live-key"},
                 {"Authorization": "Bearer nonsense"}):
        response = requests.post(f"{sandbox.url}/v1/transaction/initialize", json={},
                                 headers=auth, timeout=5)
        assert response.status_code == 401
        assert response.json() == {"message": "Invalid API Key", "status": "failed",
                                   "data": None}


def test_validation_messages(sandbox):
    headers = {"Authorization": f"Bearer {generate_test_key()}"}
    response = requests.post(f"{sandbox.url}/v1/transaction/initialize", headers=headers,
                             json={"currency": "XYZ", "email": "nope",
                                   "customization": {"title": "x" * 17}}, timeout=5)
    body = response.json()
    assert response.status_code == 400 and body["status"] == "failed" and body["data"] is None
    assert body["message"]["amount"] == ["The amount field is required."]
    assert body["message"]["currency"] == ["The selected currency is invalid."]
    assert "email" in body["message"] and "tx_ref" in body["message"]
    assert "customization.title" in body["message"]


def test_initialize_verify_and_duplicate_reference(sandbox):
    headers = {"Authorization": f"Bearer {generate_test_key()}"}
    form = {"amount": "100", "currency": "ETB", "tx_ref": "form-1", "email": "a@b.et",
            "first_name": "Abebe", "last_name": "Bikila", "phone_number": "0911234567",
            "customization[title]": "Lab", "customization[description]": "Form post"}
    created = requests.post(f"{sandbox.url}/v1/transaction/initialize", data=form,
                            headers=headers, timeout=5).json()
    assert created["status"] == "success" and created["message"] == "Hosted Link"
    assert "/checkout/payment/" in created["data"]["checkout_url"]
    again = requests.post(f"{sandbox.url}/v1/transaction/initialize", data=form,
                          headers=headers, timeout=5)
    assert again.status_code == 400
    assert again.json()["message"] == "Transaction reference has been used before"

    verify = requests.get(f"{sandbox.url}/v1/transaction/verify/form-1", headers=headers,
                          timeout=5).json()
    assert verify["message"] == "Payment details" and verify["status"] == "success"
    data = verify["data"]
    assert data["status"] == "pending" and data["amount"] == 100 and data["currency"] == "ETB"
    assert data["tx_ref"] == "form-1" and data["mode"] == "test"
    assert data["customization"]["title"] == "Lab"
    missing = requests.get(f"{sandbox.url}/v1/transaction/verify/none", headers=headers,
                           timeout=5)
    assert missing.status_code == 404 and missing.json()["status"] == "failed"
