"""Receive yekuo's webhooks on this machine and print each, with its signature checked."""

import json
import sys

from integration.receiver import WebhookReceiver
from integration.signing import is_secret
from yekuo.commands import RefusingCommand


class Command(RefusingCommand):
    help = (
        "Listen for webhooks (e.g. a subscription to http://127.0.0.1:8765/hooks), verify "
        "each signature with the given secret(s) and print what arrived; answers 204, or "
        "401 to a signature that does not verify."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--secret",
            action="append",
            required=True,
            help="the subscription's signing secret (whsec_…); repeat during a rotation",
        )
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8765)
        parser.add_argument(
            "--fail-first", type=int, default=0, help="answer 500 to this many requests first"
        )

    def handle(self, *args, secret, host, port, fail_first, **options):
        for value in secret:
            if not is_secret(value):
                self.refuse(f"--secret {value!r} is not a signing secret (whsec_ and base64).")
        try:
            server = WebhookReceiver(secrets=secret, host=host, port=port, on_request=self._print)
        except OSError as exc:
            self.refuse(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
        server.state.fail_first = fail_first
        self.stdout.write(f"listening on {server.url} (Ctrl-C ends)")
        self.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()

    def _print(self, received) -> None:
        headers = received.headers
        mark = "verified" if received.verified else f"NOT VERIFIED ({received.error})"
        if received.duplicate:
            mark += ", already seen"
        try:
            event = received.event
            line = f"{event.get('type')} {event.get('subject')} {event.get('id')}"
            data = json.dumps(event.get("data"), ensure_ascii=False)
        except ValueError:
            line, data = "(not JSON)", received.body[:200].decode("utf-8", "replace")
        self.stdout.write(f"{headers.get('webhook-timestamp')} {line}: {mark}\n  {data}")
        self.stdout.flush()
        sys.stdout.flush()
