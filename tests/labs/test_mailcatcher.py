"""Mailpit from the offline toolchain on loopback: mail sent with smtplib is found by the client
that lesson checks use, and chaos makes deliveries fail on demand (service tier)."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

import pytest
import requests

from labs import mailcatcher as mc

pytestmark = pytest.mark.service


@pytest.fixture(scope="module")
def mailpit(toolchain):
    with mc.Mailpit(toolchain.mailpit) as mp:
        yield mp


def _send(mp: mc.Mailpit, to: str, subject: str, *, bcc: str | None = None) -> None:
    msg = EmailMessage()
    msg["From"] = "Booking Bot <bot@example.test>"
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(f"body of {subject}")
    rcpts = [to, *([bcc] if bcc else [])]
    with smtplib.SMTP(mp.smtp_host, mp.smtp_port, timeout=10) as smtp:
        smtp.send_message(msg, to_addrs=rcpts)


def test_mail_sent_over_smtp_is_found_through_the_api(mailpit):
    _send(mailpit, "Alice <alice@example.test>", "welcome Alice")
    _send(mailpit, "malice@example.test", "not for alice")

    found = mc.wait_for_message(mailpit.api_url, "alice@example.test", timeout=10)
    assert found["Subject"] == "welcome Alice"
    assert found["From"] == {"Name": "Booking Bot", "Address": "bot@example.test"}
    assert found["To"] == [{"Name": "Alice", "Address": "alice@example.test"}]
    assert found["ID"] and found["Created"]
    # substring matches (malice@) are not hers
    assert [m["Subject"] for m in mc.messages_to(mailpit.api_url, "ALICE@example.test")] == [
        "welcome Alice"]
    full = mc.message(mailpit.api_url, found["ID"])
    assert full["Text"].strip() == "body of welcome Alice"
    assert mc.messages_to(mailpit.api_url, "nobody@example.test") == []


def test_envelope_only_recipients_count(mailpit):
    _send(mailpit, "carol@example.test", "copy for dave", bcc="dave@example.test")
    [msg] = mc.messages_to(mailpit.api_url, "dave@example.test")
    assert msg["Subject"] == "copy for dave"


def test_chaos_fails_deliveries_until_cleared(mailpit):
    try:
        conf = mc.set_chaos_fail(mailpit.api_url, recipient=100, code=451)
        assert conf["Recipient"] == {"ErrorCode": 451, "Probability": 100}
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            _send(mailpit, "erin@example.test", "lost")
        assert refused.value.recipients["erin@example.test"][0] == 451

        mc.set_chaos_fail(mailpit.api_url, sender=100, code=550)
        with pytest.raises(smtplib.SMTPSenderRefused) as sender_refused:
            _send(mailpit, "erin@example.test", "lost too")
        assert sender_refused.value.smtp_code == 550

        with pytest.raises(RuntimeError, match="between 400 and 599"):
            mc.set_chaos_fail(mailpit.api_url, recipient=100, code=250)
    finally:
        mc.clear_chaos(mailpit.api_url)
    _send(mailpit, "erin@example.test", "delivered")
    assert [m["Subject"] for m in mc.messages_to(mailpit.api_url, "erin@example.test")] == [
        "delivered"]


def test_stop_ends_the_process_and_a_missing_binary_names_the_fix(toolchain, tmp_path):
    with mc.Mailpit(toolchain.mailpit, chaos=False) as mp:
        url = mp.api_url
        assert requests.get(f"{url}/api/v1/messages", timeout=5).json()["messages"] == []
        with pytest.raises(RuntimeError, match="not enabled"):
            mc.set_chaos_fail(url, recipient=100)
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{url}/readyz", timeout=2)

    with pytest.raises(RuntimeError, match="invoke toolchain"):
        mc.Mailpit(tmp_path / "no-such-mailpit").start()
