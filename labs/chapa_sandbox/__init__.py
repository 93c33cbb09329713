"""A small, faithful stand-in for Chapa's transaction API, for offline labs and tests.

Speaks initialize / verify / hosted checkout / callback / webhook the way Chapa does
(field names, status values, error shapes, test keys `CHASECK_TEST-...`), in the spirit of
stripe-mock. Standard library only.

    python -m labs.chapa_sandbox --port 8090 --webhook-url http://api:8000/api/payments/webhook/

or in-process:

    with ChapaSandbox(secret_key=..., webhook_secret=...) as sandbox:
        sandbox.url  # http://127.0.0.1:<port>
"""

from .server import TEST_KEY_PATTERN, ChapaSandbox, generate_test_key, sign

__all__ = ["ChapaSandbox", "TEST_KEY_PATTERN", "generate_test_key", "sign"]
