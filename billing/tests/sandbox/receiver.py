"""A webhook receiver for tests: records every POST and answers with scripted statuses."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class WebhookReceiver:
    def __init__(self):
        self.received: list[dict] = []
        self.statuses: list[int] = []  # answered in order; 200 once exhausted
        # When set, each post waits for the barrier's other parties before it is answered,
        # and answers 500 if they never come: only concurrent posts all succeed.
        self.barrier: threading.Barrier | None = None
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                if receiver.barrier is not None:
                    try:
                        receiver.barrier.wait(timeout=5)
                    except threading.BrokenBarrierError:
                        status = 500
                # Recorded before answering, so a sender that got its answer finds the post recorded.
                with receiver.arrived:
                    receiver.received.append(
                        {"body": body, "signature": self.headers["Stripe-Signature"], "status": status}
                    )
                    receiver.arrived.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format, *args):  # noqa: A002
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def events(self) -> list[dict]:
        return [json.loads(item["body"]) for item in self.received if item["status"] == 200]

    def wait_for(self, count: int, timeout: float = 10) -> bool:
        """Block until `count` posts arrived (woken by each arrival, not by polling)."""
        with self.arrived:
            return self.arrived.wait_for(lambda: len(self.received) >= count, timeout=timeout)

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
