"""The HTTP face of the sandbox: Stripe's REST API under /v1, hosted pages, and /_sandbox controls.

Sandbox-only controls (no API key needed; the server only listens on 127.0.0.1):
  POST /_sandbox/flush          deliver every pending webhook now; answers what happened
  GET  /_sandbox/deliveries     the delivery log
  POST /_sandbox/clock/advance  seconds=N: move the sandbox clock and run what falls due
  POST /_sandbox/config         shuffle=true|false, duplicate=true|false for deliveries
  POST /_sandbox/reset          forget everything
"""

import base64
import copy
import json
import secrets
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from . import pages
from .core import API_VERSION
from .engine import Sandbox
from .routes import resolve
from .store import Store
from .webhooks import Deliverer
from .wire import StripeError, as_bool, as_int, as_list, parse_params


class SandboxServer:
    """A sandbox bound to 127.0.0.1:port with its webhook deliverer; `start()` serves in a thread."""

    def __init__(
        self,
        *,
        db_path: str | Path,
        port: int = 0,
        api_keys: tuple[str, ...] = (),
        deliver_in_background: bool = True,
        retry_backoff: float = 5.0,
        tick_seconds: float | None = None,
        delivery_workers: int = 1,
    ):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.sandbox_server = self
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.store = Store(db_path)
        self.sandbox = Sandbox(self.store, base_url=self.url, api_keys=tuple(api_keys))
        self.deliverer = Deliverer(self.sandbox, backoff=retry_backoff, workers=delivery_workers)
        self.deliver_in_background = deliver_in_background
        # Beside a running site, renewals and trial ends also happen as real time passes.
        self.tick_seconds = tick_seconds
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def _start_workers(self) -> None:
        if self.deliver_in_background:
            self.deliverer.start()
        if self.tick_seconds:
            threading.Thread(target=self._tick, name="stripe-sandbox-clock", daemon=True).start()

    def _tick(self) -> None:
        while not self._stopping.wait(self.tick_seconds):
            self.advance_clock(0)

    def start(self) -> "SandboxServer":
        self._start_workers()
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="stripe-sandbox", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._start_workers()
        self.httpd.serve_forever()

    def stop(self) -> None:
        self._stopping.set()
        self.deliverer.stop()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.store.close()

    def reset(self) -> None:
        self.store.reset()

    def flush(self) -> list[dict]:
        return self.deliverer.flush()

    def advance_clock(self, seconds: int) -> dict:
        """Move the sandbox clock (customers without a Stripe test clock) and run what falls due."""
        with self.store:
            return self.sandbox.sandbox_clock_advance(seconds)


class _Handler(BaseHTTPRequestHandler):
    server_version = "stripe-sandbox"
    protocol_version = "HTTP/1.1"
    # Headers and body leave in separate writes; with Nagle's algorithm each keep-alive
    # response would wait ~40 ms for the client's delayed ACK.
    disable_nagle_algorithm = True

    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        """Quiet: the sandbox runs beside the site and inside tests."""

    @property
    def box(self) -> SandboxServer:
        return self.server.sandbox_server

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_DELETE(self):
        self._dispatch("DELETE")

    # --- plumbing -------------------------------------------------------------------------
    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        raw = "&".join(filter(None, [parts.query, body if method == "POST" else ""]))
        try:
            if parts.path.startswith("/v1/"):
                self._api(method, parts.path, raw)
            elif parts.path.startswith("/_sandbox/"):
                self._control(method, parts.path, parse_params(raw))
            else:
                self._hosted(method, parts.path, dict(parse_qsl(body)) if method == "POST" else {})
        except StripeError as error:
            self._json(error.status, error.response())
        except Exception:
            # A sandbox bug must still answer like Stripe's 500, or clients retry and hang.
            traceback.print_exc()
            self._json(500, {"error": {"type": "api_error", "message": "The Stripe sandbox failed on this request."}})

    def _json(self, status: int, payload) -> None:
        self._send(status, json.dumps(payload, indent=2).encode(), "application/json")

    def _send(self, status: int, data: bytes, content_type: str, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _redirect(self, location: str) -> None:
        self.send_response(303)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    # --- the API ------------------------------------------------------------------------------
    def _authenticate(self) -> None:
        header = self.headers.get("Authorization", "")
        key = ""
        if header.startswith("Bearer "):
            key = header[7:].strip()
        elif header.startswith("Basic "):
            key = base64.b64decode(header[6:]).decode(errors="replace").split(":", 1)[0]
        if not key:
            raise StripeError(
                401,
                "You did not provide an API key. You need to provide your API key in the Authorization header,"
                " using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
            )
        if self.box.sandbox.api_keys and key not in self.box.sandbox.api_keys:
            raise StripeError(401, f"Invalid API Key provided: {key[:8]}{'*' * 8}{key[-4:]}", code="api_key_invalid")

    def _api(self, method: str, path: str, raw: str) -> None:
        request_id = "req_" + secrets.token_hex(7)
        headers = {"Request-Id": request_id, "Stripe-Version": self.headers.get("Stripe-Version") or API_VERSION}
        # Only a request that ran is remembered under its key (errors included, as Stripe does);
        # a refused key or a failed authentication is not.
        executed_key = None
        try:
            self._authenticate()
            params = parse_params(raw)
            route = resolve(method, path)
            if route is None:
                raise StripeError(
                    404,
                    f"Unrecognized request URL ({method}: {path}). The Stripe sandbox does not"
                    " implement this endpoint; see docs/stripe-sandbox.md.",
                )
            name, args = route
            key = self.headers.get("Idempotency-Key") if method == "POST" else None
            store = self.box.store
            if key:
                with store.lock:
                    previous = store.idempotent_reply(key)
                if previous:
                    if (previous[0], previous[1], previous[2]) != (method, path, raw):
                        raise StripeError(
                            400,
                            f"Keys for idempotent requests can only be used with the same parameters they were first"
                            f" used with. Try using a key other than '{key}' if you meant to execute a different"
                            " request.",
                            type="idempotency_error",
                        )
                    self._send(
                        previous[3],
                        previous[4].encode(),
                        "application/json",
                        {**headers, "Idempotent-Replayed": "true", "Idempotency-Key": key},
                    )
                    return
            executed_key = key
            status, payload = self._execute(name, args, params, request_id, key)
        except StripeError as error:
            status, payload = error.status, error.response()
        data = json.dumps(payload, indent=2)
        if executed_key:
            with self.box.store.lock:
                self.box.store.save_idempotent_reply(executed_key, method, path, raw, status, data)
            headers["Idempotency-Key"] = executed_key
        self._send(status, data.encode(), "application/json", headers)

    def _execute(self, name: str, args: tuple, params: dict, request_id: str, key: str | None):
        sandbox = self.box.sandbox
        with self.box.store:
            sandbox.request_context = {"id": request_id, "idempotency_key": key}
            try:
                result = getattr(sandbox, name)(*args, params)
                result = sandbox.expand(copy.deepcopy(result), as_list(params, "expand"))
            finally:
                sandbox.request_context = {"id": None, "idempotency_key": None}
        return 200, result

    # --- sandbox controls -----------------------------------------------------------------------
    def _control(self, method: str, path: str, params: dict) -> None:
        box = self.box
        if (method, path) == ("POST", "/_sandbox/flush"):
            self._json(200, {"deliveries": box.flush()})
        elif (method, path) == ("GET", "/_sandbox/deliveries"):
            with box.store.lock:
                self._json(200, {"deliveries": box.store.deliveries()})
        elif (method, path) == ("POST", "/_sandbox/clock/advance"):
            self._json(200, box.advance_clock(as_int(params, "seconds", 0)))
        elif (method, path) == ("GET", "/_sandbox/clock"):
            with box.store.lock:
                self._json(200, {"now": box.sandbox.now()})
        elif (method, path) == ("POST", "/_sandbox/config"):
            if "shuffle" in params:
                box.deliverer.shuffle = as_bool(params, "shuffle")
            if "duplicate" in params:
                box.deliverer.duplicate = as_bool(params, "duplicate")
            self._json(200, {"shuffle": box.deliverer.shuffle, "duplicate": box.deliverer.duplicate})
        elif (method, path) == ("POST", "/_sandbox/reset"):
            box.reset()
            self._json(200, {"reset": True})
        else:
            raise StripeError(404, f"Unknown sandbox control: {method} {path}")

    # --- hosted pages -------------------------------------------------------------------------
    def _html(self, status: int, html: str) -> None:
        self._send(status, html.encode(), "text/html; charset=utf-8")

    def _hosted(self, method: str, path: str, form: dict) -> None:
        segments = [part for part in path.split("/") if part]
        try:
            if segments[:2] == ["c", "pay"] and len(segments) == 3:
                return self._checkout(method, segments[2], form)
            if segments[:2] == ["p", "session"] and len(segments) >= 3:
                return self._portal(method, segments[2], segments[3:])
            if segments[:1] == ["i"] and len(segments) >= 2:
                return self._invoice(method, segments[1], segments[2:], form)
        except StripeError as error:
            return self._html(error.status, pages.page("Not found", f"<h1>{error.body['message']}</h1>"))
        self._html(404, pages.page("Not found", "<h1>Not found</h1>"))

    def _checkout(self, method: str, session_id: str, form: dict) -> None:
        sandbox, store = self.box.sandbox, self.box.store
        with store.lock:
            session = sandbox.fetch(session_id, "checkout.session")
            items = store.internal(session_id)["line_items"]
        if method == "GET":
            return self._html(200, pages.checkout_page(session, items))
        try:
            with store:
                session = sandbox.checkout_session_pay(
                    session_id,
                    card_number=form.get("card_number", ""),
                    email=form.get("email", ""),
                    name=form.get("name") or None,
                    promotion_code=form.get("promotion_code", ""),
                )
        except StripeError as error:
            with store.lock:
                session = sandbox.fetch(session_id, "checkout.session")
            return self._html(
                error.status,
                pages.checkout_page(session, items, error=error.body["message"], email=form.get("email", "")),
            )
        self._redirect(session["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id))

    def _portal(self, method: str, session_id: str, rest: list[str]) -> None:
        sandbox, store = self.box.sandbox, self.box.store
        if method == "POST" and len(rest) == 3 and rest[0] == "subscriptions" and rest[2] in ("cancel", "resume"):
            with store:
                action = sandbox.portal_cancel if rest[2] == "cancel" else sandbox.portal_resume
                action(session_id, rest[1])
            return self._redirect(f"/p/session/{session_id}")
        with store.lock:
            session = sandbox.portal_session(session_id)
            customer = sandbox.fetch(session["customer"], "customer")
            subscriptions = [s for s in store.all("subscription") if s["customer"] == customer["id"]]
            invoices = [i for i in store.all("invoice") if i["customer"] == customer["id"]]
            names = {p["id"]: p["name"] for p in store.all("product")}
        self._html(200, pages.portal_page(session, customer, subscriptions, invoices, names))

    def _invoice(self, method: str, invoice_id: str, rest: list[str], form: dict) -> None:
        sandbox, store = self.box.sandbox, self.box.store
        if rest == ["pdf"]:
            with store.lock:
                invoice = sandbox.fetch(invoice_id, "invoice")
            return self._send(200, pages.invoice_pdf(invoice), "application/pdf")
        if method == "POST" and rest == ["pay"]:
            try:
                with store:
                    pm = sandbox.payment_method_from_card(form.get("card_number", ""))
                    invoice = sandbox.fetch(invoice_id, "invoice")
                    sandbox.payment_method_attach(pm["id"], {"customer": invoice["customer"]})
                    sandbox.invoice_pay(invoice_id, {"payment_method": pm["id"]})
            except StripeError as error:
                with store.lock:
                    invoice = sandbox.fetch(invoice_id, "invoice")
                return self._html(402, pages.invoice_page(invoice, error=error.body["message"]))
            return self._redirect(f"/i/{invoice_id}")
        with store.lock:
            invoice = sandbox.fetch(invoice_id, "invoice")
        self._html(200, pages.invoice_page(invoice))
