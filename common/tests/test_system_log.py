"""The system log: warnings, errors and events kept with request id, user, org; never in a request's way."""

import io
import logging
import time
from contextlib import redirect_stderr
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from common.models import SystemLog
from common.services.system_log import system_log_prune
from common.system_log import SystemLogHandler, system_log_handler

pytestmark = pytest.mark.django_db


@pytest.fixture
def handler():
    handler = system_log_handler()
    assert handler is not None, "settings.LOGGING attaches the system log handler to the root logger"
    handler.write_queued()
    SystemLog.objects.all().delete()
    return handler


@pytest.fixture
def urls(settings):
    settings.ROOT_URLCONF = "common.tests.urls_system_log"


def test_a_warning_in_a_request_is_kept_with_request_id_user_org_and_context(client, handler, urls):
    user = get_user_model().objects.create_user(email="ann@example.com", password="x" * 12)
    client.force_login(user)
    response = client.get("/warn", headers={"X-Request-ID": "req-123"})
    assert response.status_code == 200
    assert SystemLog.objects.count() == 0  # queued, not written inside the request
    assert handler.write_queued() == 1
    row = SystemLog.objects.get()
    assert (row.level, row.logger, row.message) == (30, "plateau.test", "stock of widgets is low")
    assert (row.request_id, row.user_id, row.organization_id) == ("req-123", user.pk, 42)
    assert row.context == {"left": 3} and row.event == ""
    assert row.source.endswith(f":{__import__('os').getpid()}")


def test_business_events_are_kept_from_info_and_plain_info_is_not(client, handler, urls):
    client.get("/event", headers={"X-Request-ID": "req-ev"})
    handler.write_queued()
    row = SystemLog.objects.get()
    assert (row.event, row.level, row.message) == ("payment_failed", 20, "payment failed for invoice in_1")
    assert row.user_id is None and row.request_id == "req-ev"


def test_a_server_error_is_kept_with_its_traceback_and_a_404_is_not(client, handler, urls):
    client.raise_request_exception = False
    assert client.get("/break").status_code == 500
    assert client.get("/no-such-page").status_code == 404
    handler.write_queued()
    row = SystemLog.objects.get()
    assert row.level == 40 and row.logger == "django.request"
    assert row.message == "Internal Server Error: /break"
    assert "RuntimeError: the view broke" in row.traceback


def test_a_full_queue_drops_records_and_the_request_still_succeeds(client, handler, urls):
    user = get_user_model().objects.create_user(email="ann@example.com", password="x" * 12)
    client.force_login(user)
    full = SystemLogHandler(start_thread=False)
    full.queue.maxsize = 1
    logging.getLogger().addHandler(full)
    try:
        assert client.get("/warn").status_code == 200
        assert client.get("/warn").status_code == 200
    finally:
        logging.getLogger().removeHandler(full)
    assert full.queue.qsize() == 1 and full.dropped == 1


def test_a_database_failure_while_writing_never_reaches_the_caller(handler, monkeypatch):
    def refuse(*args, **kwargs):
        raise RuntimeError("database is down")

    monkeypatch.setattr(SystemLog.objects, "bulk_create", refuse)
    logging.getLogger("plateau.test").error("first")
    stderr = io.StringIO()
    with redirect_stderr(stderr):
        assert handler.write_queued() == 0
    assert stderr.getvalue() == "system log: 1 records not written: RuntimeError('database is down')\n"


def test_a_failed_task_named_in_settings_is_an_event(handler, settings):
    from config.celery import app

    settings.SYSTEM_LOG_TASK_EVENTS = {"tests.always_fails": "webhook_failed"}

    @app.task(name="tests.always_fails")
    def always_fails():
        raise ValueError("bad payload")

    result = always_fails.apply(throw=False)
    assert result.failed()
    handler.write_queued()
    row = SystemLog.objects.get(event="webhook_failed")
    assert row.message == "tests.always_fails failed: ValueError('bad payload')"
    assert row.context == {"task": "tests.always_fails", "task_id": result.id, "retrying": False}


def test_retention_prunes_rows_older_than_the_setting():
    now = timezone.now()
    old = SystemLog.objects.create(level=30, logger="x", message="old", created_at=now - timedelta(days=31))
    kept = SystemLog.objects.create(level=30, logger="x", message="kept", created_at=now - timedelta(days=29))
    assert system_log_prune(days=30, now=now) == 1
    assert list(SystemLog.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not SystemLog.objects.filter(pk=old.pk).exists()


def test_the_admin_lists_and_filters_the_system_log(staff_client, handler):
    SystemLog.objects.create(level=40, logger="billing", message="an error to see", event="webhook_failed")
    SystemLog.objects.create(level=30, logger="billing", message="a warning to filter out")
    response = staff_client.get("/admin/common/systemlog/?level__exact=40")
    assert response.status_code == 200
    content = response.content.decode()
    assert "an error to see" in content and "a warning to filter out" not in content
    assert staff_client.get("/admin/common/systemlog/?event=webhook_failed").status_code == 200
    assert staff_client.get("/admin/common/backuplog/").status_code == 200


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_the_background_writer_batches_records_into_the_table(require_postgres):
    writer = SystemLogHandler(start_thread=True)
    logger = logging.getLogger("plateau.test.writer")
    logger.addHandler(writer)
    logger.propagate = False
    try:
        for i in range(250):
            logger.warning("record %d", i)
        deadline = time.monotonic() + 20
        while SystemLog.objects.filter(logger="plateau.test.writer").count() < 250 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        logger.removeHandler(writer)
        logger.propagate = True
        writer.close()  # the writer thread ends and closes its connection
    assert not writer._writer.is_alive()
    messages = set(SystemLog.objects.filter(logger="plateau.test.writer").values_list("message", flat=True))
    assert messages == {f"record {i}" for i in range(250)}
    assert writer.dropped == 0


@pytest.mark.services
def test_a_worker_process_writes_its_warnings_to_the_system_log(celery_worker):
    """Celery leaves the root logger's handlers alone (worker_hijack_root_logger off), so a task's warning lands too."""
    from django.core.cache import cache

    from common.tasks import backup_scheduled

    cache.set("ops:lock:backup", "1", 60)  # a backup "running": the scheduled one logs a warning and skips
    assert backup_scheduled.delay().get(timeout=30) is None
    rows = SystemLog.objects.filter(message="a backup is already running; this one is skipped")
    deadline = time.monotonic() + 20
    while not rows.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    row = rows.get()
    assert row.logger == "common.tasks" and row.level == 30
    assert row.source.split(":")[-1] == str(celery_worker.pid)
