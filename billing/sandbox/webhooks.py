"""Signed webhook delivery with retries, like Stripe's: at least once, in no guaranteed order."""

import hashlib
import hmac
import json
import random
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

MAX_ATTEMPTS = 8


def signature_header(payload: bytes, secret: str) -> str:
    """`Stripe-Signature: t=…,v1=…`: HMAC-SHA256 of "t.payload" keyed with the endpoint secret."""
    timestamp = int(time.time())
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class Deliverer:
    """Posts queued events to their endpoints.

    The background thread delivers what is due and schedules failed deliveries again
    after `backoff * 2**(attempt-1)` seconds. `flush()` delivers everything pending at
    once and returns when all are done, so tests wait for webhooks without sleeping. One
    lock serialises batches, so a flush also waits for a batch the thread has in flight.
    Within a batch, up to `workers` posts are in flight at once, as Stripe sends
    concurrently: a receiver must not rely on one event arriving before another.
    """

    def __init__(self, sandbox, *, backoff: float = 5.0, timeout: float = 30.0, workers: int = 1):
        self.sandbox = sandbox
        self.store = sandbox.store
        self.backoff = backoff
        self.timeout = timeout
        self.workers = workers
        self.shuffle = False
        self.duplicate = False
        self._batch = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- background thread --------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="stripe-sandbox-deliverer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        with self.sandbox.events_pending:
            self.sandbox.events_pending.notify_all()
        if self._thread:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.deliver(due_only=True)
            with self.store.lock:
                due = self.store.next_delivery_due()
            wait = 60.0 if due is None else max(0.0, due - time.time())
            with self.sandbox.events_pending:
                if not self._stop.is_set():
                    self.sandbox.events_pending.wait(timeout=min(wait, 60.0) or 0.01)

    # --- delivering -----------------------------------------------------------------------
    def flush(self) -> list[dict]:
        """Attempt every pending delivery once, now; returns what happened to each."""
        return self.deliver(due_only=False)

    def deliver(self, *, due_only: bool) -> list[dict]:
        with self._batch:
            with self.store.lock:
                batch = self.store.pending_deliveries(time.time() if due_only else None)
                jobs = []
                for delivery in batch:
                    event = self.store.get(delivery["event_id"])
                    endpoint = self.store.get(delivery["endpoint_id"])
                    secret = self.store.internal(delivery["endpoint_id"]).get("secret")
                    jobs.append((delivery, event, endpoint, secret))
            if self.shuffle:
                random.shuffle(jobs)
            if self.workers <= 1 or len(jobs) <= 1:
                return [self._attempt(*job) for job in jobs]
            # Each delivery appears once per batch, and every store access takes the store's lock.
            with ThreadPoolExecutor(
                max_workers=min(self.workers, len(jobs)), thread_name_prefix="stripe-sandbox-delivery"
            ) as pool:
                return list(pool.map(lambda job: self._attempt(*job), jobs))

    def _attempt(self, delivery: dict, event: dict | None, endpoint: dict | None, secret: str | None) -> dict:
        attempts = delivery["attempts"] + 1
        if event is None or endpoint is None or endpoint.get("deleted") or endpoint.get("status") != "enabled":
            outcome = {"at": time.time(), "status": None, "error": "endpoint removed or disabled"}
            self._record(delivery, "abandoned", attempts, outcome)
            return {"delivery": delivery["id"], "event": delivery["event_id"], "status": "abandoned"}
        payload = json.dumps(event, indent=2).encode()
        copies = 2 if self.duplicate else 1
        status, error = None, None
        for _ in range(copies):
            status, error = self._post(endpoint["url"], payload, secret)
        outcome = {"at": time.time(), "status": status, "error": error}
        if status is not None and 200 <= status < 300:
            self._record(delivery, "delivered", attempts, outcome)
            state = "delivered"
        elif attempts >= MAX_ATTEMPTS:
            self._record(delivery, "failed", attempts, outcome)
            state = "failed"
        else:
            self._record(delivery, "pending", attempts, outcome, retry_in=self.backoff * 2 ** (attempts - 1))
            state = "retrying"
        return {
            "delivery": delivery["id"],
            "event": delivery["event_id"],
            "type": event["type"],
            "status": state,
            "http_status": status,
            "error": error,
        }

    def _post(self, url: str, payload: bytes, secret: str) -> tuple[int | None, str | None]:
        # Endpoint URLs are checked to be http(s) when they are registered.
        request = urllib.request.Request(  # noqa: S310
            url,
            data=payload,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
                "Stripe-Signature": signature_header(payload, secret),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return response.status, None
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()[:500].decode(errors="replace")
        except (urllib.error.URLError, OSError) as exc:
            return None, str(exc)

    def _record(self, delivery: dict, status: str, attempts: int, outcome: dict, retry_in: float = 0.0) -> None:
        with self.store.lock:
            self.store.update_delivery(
                delivery["id"],
                status=status,
                attempts=attempts,
                next_attempt_at=time.time() + retry_in,
                log=[*delivery["log"], outcome],
            )
            if status in ("delivered", "failed", "abandoned"):
                event = self.store.get(delivery["event_id"])
                if event and event["pending_webhooks"] > 0:
                    event["pending_webhooks"] -= 1
                    self.store.put(event)
