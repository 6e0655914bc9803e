"""A logging handler that also keeps warnings, errors and business events in the `SystemLog` table.

It must never block or fail what is being logged (a request, a task): `emit` only puts a
plain dict on a bounded in-memory queue and returns; a background thread of the process
writes the queue to the database in batches (every `SYSTEM_LOG_FLUSH_SECONDS` or
`SYSTEM_LOG_BATCH_SIZE` records). When the queue is full, records are dropped and counted
(the console handler still has them); when the database is down, the batch is dropped
after one line on stderr. Nothing raised while writing reaches the caller.

A business event is a record with `extra={"event": "payment_failed", "context": {...}}`,
kept at any level from INFO up. Request id, user and organization come from the record
(`extra={"organization_id": ...}`) or from the request being served (`SystemLogContextMiddleware`).
"""

import logging
import os
import queue
import socket
import sys
import threading
import time
import traceback as traceback_module
from contextvars import ContextVar
from datetime import UTC, datetime

from django.conf import settings
from django.utils.functional import empty

from common.request_id import get_request_id

_current_request: ContextVar = ContextVar("system_log_request", default=None)
MESSAGE_LIMIT = 10_000
_STOP = object()  # put on the queue by close(): the writer writes what came before it and ends
IGNORED_LOGGERS = ("common.system_log",)


def _user_id(request) -> int | None:
    """The user id when authentication already ran; never triggers a query from inside logging."""
    user = request.__dict__.get("user") if request is not None else None
    if user is None:
        return None
    wrapped = getattr(user, "_wrapped", user)
    if wrapped is empty:
        return None
    return wrapped.pk if getattr(wrapped, "is_authenticated", False) else None


def _request_id(record: logging.LogRecord, request) -> str:
    value = getattr(record, "request_id", None) or getattr(request, "request_id", None) or get_request_id()
    return "" if value in (None, "-") else str(value)[:128]


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


class SystemLogHandler(logging.Handler):
    """Queue records for the SystemLog table; `flush()` writes what is queued in the caller's thread."""

    def __init__(self, record_level="WARNING", event_level="INFO", *, start_thread: bool | None = None):
        self.record_level = logging._checkLevel(record_level)
        self.event_level = logging._checkLevel(event_level)
        # The handler's own level lets events through; filter() holds plain records to record_level.
        super().__init__(level=min(self.record_level, self.event_level))
        self.start_thread = start_thread
        self.queue: queue.Queue = queue.Queue(maxsize=getattr(settings, "SYSTEM_LOG_QUEUE_SIZE", 10_000))
        self.dropped = 0
        self._writer: threading.Thread | None = None
        self._writer_pid: int | None = None
        self._write_lock = threading.Lock()
        self._source = f"{socket.gethostname()}:{os.getpid()}"
        self._last_complaint = 0.0

    # --- producer side: cheap, never raises -------------------------------------------------
    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith(IGNORED_LOGGERS) or threading.current_thread() is self._writer:
            return False
        if getattr(record, "event", ""):
            return record.levelno >= self.event_level
        if record.levelno < self.record_level:
            return False
        # A 404 or 400 is the client's business, not an operator's (django.request logs them as warnings).
        status = getattr(record, "status_code", None)
        if record.name == "django.request" and status is not None and status < 500:
            return False
        return super().filter(record)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.queue.put_nowait(self._row(record))
        except queue.Full:
            self.dropped += 1
            return
        except Exception:  # a record that cannot even be described: never the caller's problem
            self.dropped += 1
            return
        self._ensure_writer()

    def _row(self, record: logging.LogRecord) -> dict:
        request = getattr(record, "request", None) or _current_request.get()
        context = getattr(record, "context", None)
        trace = ""
        if record.exc_info and record.exc_info[0] is not None:
            trace = "".join(traceback_module.format_exception(*record.exc_info))
        elif record.stack_info:
            trace = record.stack_info
        org_id = getattr(record, "organization_id", None)
        if org_id is None and request is not None:
            org_id = getattr(request, "organization_id", None)
        return {
            "created_at": datetime.fromtimestamp(record.created, tz=UTC),
            "level": record.levelno,
            "logger": record.name[:200],
            "event": str(getattr(record, "event", "") or "")[:64],
            "message": record.getMessage()[:MESSAGE_LIMIT],
            "request_id": _request_id(record, request),
            "user_id": getattr(record, "user_id", None) or _user_id(request),
            "organization_id": org_id,
            "source": self._source,
            "context": _jsonable(context) if isinstance(context, dict) else {},
            "traceback": trace[:MESSAGE_LIMIT * 5],
        }

    # --- consumer side -------------------------------------------------------------------------
    def _threaded(self) -> bool:
        if self.start_thread is not None:
            return self.start_thread
        return getattr(settings, "SYSTEM_LOG_WRITER_THREAD", True)

    def _ensure_writer(self) -> None:
        if not self._threaded():
            return
        pid = os.getpid()
        if self._writer is not None and self._writer_pid == pid and self._writer.is_alive():
            return
        with self._write_lock:
            if self._writer is not None and self._writer_pid == pid and self._writer.is_alive():
                return
            if self._writer_pid != pid:  # forked (gunicorn, celery prefork): the parent's thread is not here
                self._source = f"{socket.gethostname()}:{pid}"
            self._writer_pid = pid
            self._writer = threading.Thread(target=self._run, name="system-log-writer", daemon=True)
            self._writer.start()

    def _run(self) -> None:
        from django.db import connections

        interval = getattr(settings, "SYSTEM_LOG_FLUSH_SECONDS", 2.0)
        batch_size = getattr(settings, "SYSTEM_LOG_BATCH_SIZE", 100)
        stopping = False
        while not stopping:
            batch = [self.queue.get()]
            deadline = time.monotonic() + interval
            while len(batch) < batch_size and batch[-1] is not _STOP:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                try:
                    batch.append(self.queue.get(timeout=remaining))
                except queue.Empty:
                    break
            stopping = batch[-1] is _STOP
            self._write([row for row in batch if row is not _STOP])
        connections.close_all()  # this thread's own connections

    def close(self) -> None:
        """Write what is queued and stop the writer thread (logging calls this at exit, tests when done)."""
        writer = self._writer
        if writer is not None and writer.is_alive() and self._writer_pid == os.getpid():
            try:
                self.queue.put(_STOP, timeout=1)
                writer.join(timeout=10)
            except queue.Full:
                pass
        super().close()

    def _write(self, rows: list[dict]) -> int:
        if not rows:
            return 0
        from django.db import close_old_connections

        from common.models import SystemLog

        in_writer = threading.current_thread() is self._writer
        if in_writer:
            close_old_connections()  # the writer's own connection: reopened when broken or too old
        try:
            SystemLog.objects.bulk_create([SystemLog(**row) for row in rows])
            return len(rows)
        except Exception as error:
            now = time.monotonic()
            if now - self._last_complaint > 60:  # one line a minute at most, straight to stderr
                self._last_complaint = now
                print(f"system log: {len(rows)} records not written: {error!r}", file=sys.stderr)
            return 0

    def flush(self) -> None:
        """logging's flush (also called at interpreter exit): write what is queued, unless tests drive it."""
        if self._threaded():
            try:
                self.write_queued()
            except Exception:  # noqa: S110 (flushing at exit: nowhere left to report it)
                pass

    def write_queued(self) -> int:
        """Write everything queued now, in this thread; returns how many rows were written."""
        rows = []
        while True:
            try:
                rows.append(self.queue.get_nowait())
            except queue.Empty:
                break
        return self._write(rows)


def system_log_handler() -> SystemLogHandler | None:
    """The configured handler (for tests and commands that want to flush)."""
    for handler in logging.getLogger().handlers:
        if isinstance(handler, SystemLogHandler):
            return handler
    return None


class SystemLogContextMiddleware:
    """Let records logged while a request is served name its user (once authenticated) and request id."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _current_request.set(request)
        try:
            return self.get_response(request)
        finally:
            _current_request.reset(token)



def _task_event_log(*, name: str | None, task_id: str | None, error, retrying: bool) -> None:
    event = getattr(settings, "SYSTEM_LOG_TASK_EVENTS", {}).get(name or "")
    if not event:
        return
    logging.getLogger("common.tasks.failures").error(
        "%s %s: %r", name, "failed, will retry" if retrying else "failed", error,
        extra={"event": event, "context": {"task": name, "task_id": task_id, "retrying": retrying}},
    )


def task_failure_logged(sender=None, task_id=None, exception=None, **kwargs) -> None:
    """Celery's task_failure: a failed run of a task named in SYSTEM_LOG_TASK_EVENTS is a business event.

    `billing.tasks.stripe_webhook_process` failing is `webhook_failed`, counted by `monitor`
    without billing having to know about the system log.
    """
    _task_event_log(name=getattr(sender, "name", None), task_id=task_id, error=exception, retrying=False)


def task_retry_logged(sender=None, request=None, reason=None, **kwargs) -> None:
    """Celery's task_retry: each failed attempt counts, not only the last one."""
    _task_event_log(
        name=getattr(sender, "name", None), task_id=getattr(request, "id", None), error=reason, retrying=True
    )
