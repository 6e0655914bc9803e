"""A fake OpenAI-compatible server on 127.0.0.1 for tests of the `openai` provider.

It answers POST /v1/chat/completions (streamed as server-sent events, or whole) with
`server.reply`, records every request body in `server.requests`, and can be told to fail:
`server.status = 500` answers with an error, `server.hang = True` holds the request until
the test ends (so the client's timeout fires; nothing sleeps). `server.fail_when = "word"`
fails (500) only the requests whose last message contains the word; clear
`server.fail_gate` to hold those until it is set again (`server.failing_arrived` is set when
one comes in), so a test can order a failure against other requests without sleeping.

    def test_x(fake_openai, settings):   # the fixture points settings at the server
        fake_openai.reply = "Use roles [1]."
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class FakeOpenAI(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.reply = "Hello from the fake model."
        self.status = 200
        self.hang = False
        self.released = threading.Event()
        self.requests: list[dict] = []
        self.fail_when = ""
        self.fail_gate = threading.Event()
        self.fail_gate.set()
        self.failing_arrived = threading.Event()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class _Handler(BaseHTTPRequestHandler):
    server: FakeOpenAI

    def log_message(self, *args):
        pass

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        self.server.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        if self.server.hang:
            self.server.released.wait(timeout=30)
            return
        last = ((body.get("messages") or [{}])[-1].get("content") or "") if isinstance(body, dict) else ""
        if self.server.fail_when and self.server.fail_when in last:
            self.server.failing_arrived.set()
            self.server.fail_gate.wait(timeout=30)
            self._json(500, {"error": {"message": "fake failure", "type": "server_error", "code": None}})
            return
        if self.path != "/v1/chat/completions" or self.server.status != 200:
            status = self.server.status if self.server.status != 200 else 404
            self._json(status, {"error": {"message": "fake failure", "type": "server_error", "code": None}})
            return
        if body.get("stream"):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            words = self.server.reply.split(" ")
            for i, word in enumerate(words):
                piece = word + (" " if i < len(words) - 1 else "")
                self._event(_chunk(body, {"content": piece}, None))
            self._event(_chunk(body, {}, "stop"))
            self.wfile.write(b"data: [DONE]\n\n")
            return
        self._json(200, {
            "id": "chatcmpl-fake", "object": "chat.completion", "created": 0, "model": body.get("model"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": self.server.reply},
                         "finish_reason": "stop"}],
        })

    def _event(self, payload: dict):
        self.wfile.write(b"data: " + json.dumps(payload).encode() + b"\n\n")
        self.wfile.flush()

    def _json(self, status: int, payload: dict):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _chunk(body: dict, delta: dict, finish_reason):
    return {
        "id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0, "model": body.get("model"),
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }


@pytest.fixture
def fake_openai(settings):
    server = FakeOpenAI()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.AI_PROVIDER = "openai"
    settings.AI_OPENAI_BASE_URL = server.base_url
    settings.AI_OPENAI_API_KEY = "sk-test"
    settings.AI_OPENAI_MODEL = "fake-model"
    settings.AI_TIMEOUT_SECONDS = 5
    try:
        yield server
    finally:
        server.released.set()
        server.fail_gate.set()
        server.shutdown()
        server.server_close()
