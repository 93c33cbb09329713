import argparse
import logging
import os
import signal
import threading

from .server import ChapaSandbox


def main() -> None:
    env = os.environ.get
    parser = argparse.ArgumentParser(prog="python -m labs.chapa_sandbox",
                                     description="Chapa API sandbox for offline labs.")
    parser.add_argument("--host", default=env("CHAPA_SANDBOX_HOST", "0.0.0.0"))
    parser.add_argument("--port", type=int, default=int(env("CHAPA_SANDBOX_PORT", "8090")))
    parser.add_argument("--secret-key", default=env("CHAPA_SANDBOX_SECRET_KEY", ""),
                        help="the one accepted key; empty: any well-formed CHASECK_TEST- key")
    parser.add_argument("--webhook-secret", default=env("CHAPA_SANDBOX_WEBHOOK_SECRET", ""),
                        help="signs webhook bodies (Chapa-Signature / x-chapa-signature)")
    parser.add_argument("--webhook-url", default=env("CHAPA_SANDBOX_WEBHOOK_URL", ""),
                        help="where to POST webhook events (Chapa: set in the dashboard)")
    parser.add_argument("--public-url", default=env("CHAPA_SANDBOX_PUBLIC_URL", ""),
                        help="base URL browsers reach the sandbox at (for checkout_url); "
                             "empty: taken from the Host header")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    sandbox = ChapaSandbox(host=args.host, port=args.port, secret_key=args.secret_key,
                           webhook_secret=args.webhook_secret, webhook_url=args.webhook_url,
                           public_url=args.public_url)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    sandbox.start()
    logging.info("Chapa sandbox listening on %s", sandbox.url)
    stop.wait()
    sandbox.stop()


if __name__ == "__main__":
    main()
