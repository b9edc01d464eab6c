"""A receiver of webhooks for development and tests: it checks each delivery's signature
with the reference library, keeps what it got, and can be told to fail.

It is what an integrating system's endpoint does, in the smallest form: verify, then act
once per ``webhook-id`` (a redelivery of an event already seen is acknowledged and not
acted on again).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


@dataclass
class Received:
    """One request as the receiver saw it."""

    headers: dict[str, str]
    body: bytes
    verified: bool
    error: str = ""
    duplicate: bool = False

    @property
    def event(self) -> dict:
        return json.loads(self.body)


@dataclass
class ReceiverState:
    secrets: list[str]
    fail_first: int = 0  # answer 500 to this many requests first
    delay: float = 0.0  # wait this long before answering (to test timeouts)
    requests: list[Received] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    effects: list[dict] = field(default_factory=list)  # each event acted on once
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(BaseHTTPRequestHandler):
    server: WebhookReceiver

    def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
        state = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        headers = {k.lower(): v for k, v in self.headers.items()}
        verified, error = False, ""
        for secret in state.secrets:
            try:
                Webhook(secret).verify(body, headers)
            except WebhookVerificationError as exc:
                error = str(exc)
                continue
            verified, error = True, ""
            break
        with state.lock:
            received = Received(headers, body, verified, error)
            state.requests.append(received)
            failing = state.fail_first > 0
            if failing:
                state.fail_first -= 1
            elif verified:
                event_id = headers["webhook-id"]
                received.duplicate = event_id in state.seen
                if not received.duplicate:
                    state.seen.add(event_id)
                    state.effects.append(json.loads(body))
        if state.delay:
            threading.Event().wait(state.delay)
        self.server.on_request(received)
        status = 500 if failing else (204 if verified else 401)
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format, *args) -> None:  # noqa: A002 - http.server's name
        return  # on_request tells what matters


class WebhookReceiver(ThreadingHTTPServer):
    """An HTTP server on ``host:port`` (port 0: a free one) that receives webhooks."""

    daemon_threads = True

    def __init__(
        self, *, secrets: list[str], host: str = "127.0.0.1", port: int = 0, on_request=None
    ):
        super().__init__((host, port), _Handler)
        self.state = ReceiverState(secrets=list(secrets))
        self.on_request = on_request or (lambda received: None)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/hooks"

    def start(self) -> WebhookReceiver:
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
