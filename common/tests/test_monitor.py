"""monitor: live readings from the request counters, the broker and the system log, with an alerting exit code."""

import io
import json
import uuid

import pytest
from django.core.management import call_command
from django.utils import timezone

from common import metrics
from common.models import BackupLog, SystemLog
from common.selectors import broker_queue_depth

pytestmark = pytest.mark.django_db


def monitor(*args) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("monitor", "--once", *args, stdout=out)
        code = 0
    except SystemExit as exit:
        code = exit.code
    return code, out.getvalue()


@pytest.fixture
def recent_backup():
    """A successful backup and a beat heartbeat, both just now."""
    from common.tasks import beat_heartbeat

    assert beat_heartbeat.apply().get() is True
    return BackupLog.objects.create(
        kind="backup", status="succeeded", started_at=timezone.now(), finished_at=timezone.now()
    )


def test_all_quiet_is_exit_0(recent_backup, settings):
    settings.CELERY_TASK_DEFAULT_QUEUE = f"monitor-quiet-{uuid.uuid4().hex[:8]}"  # an empty queue, even on a broker
    code, out = monitor()
    assert code == 0
    lines = out.splitlines()
    assert lines[:6] == [
        "ok      request_rate     0 req/s  0 requests",
        "ok      error_rate       0 (max 0.02)  0 5xx",
        "ok      p95_latency      0 ms (max 500)  no requests",
        "ok      queue_depth      0 tasks (max 500)",
        "ok      failed_webhooks  0 (max 0)  system log",
        "ok      system_errors    0 (max 20)  system log, level error+",
    ]
    # The ages are how long ago the fixture wrote its rows: a moment, whatever the machine's speed.
    assert lines[6].startswith("ok      backup_age       0")
    assert lines[6].endswith(" h (max 26)  newest successful backup")
    assert lines[7].startswith("ok      beat_age         ") and lines[7].endswith(" s (max 180)  newest beat heartbeat")
    assert len(lines) == 8


def test_server_errors_through_the_middleware_alert(client, settings, recent_backup):
    settings.ROOT_URLCONF = "common.tests.urls_system_log"
    client.raise_request_exception = False
    for _ in range(8):
        assert client.get("/healthz").status_code == 200
    for _ in range(2):
        assert client.get("/break").status_code == 500
    code, out = monitor("--json")
    readings = json.loads(out)
    assert code == 2
    assert readings["error_rate"] == {"value": 0.2, "threshold": 0.02, "state": "ALERT", "unit": ""}
    assert readings["request_rate"]["value"] == round(10 / 300, 3)
    assert readings["system_errors"]["value"] == 0  # queued by the handler, not flushed in this test


def test_p95_is_the_upper_bound_of_its_latency_bucket():
    now = timezone.now().timestamp()
    for _ in range(94):
        metrics.request_record(status=200, duration_ms=3, now=now)
    for _ in range(6):
        metrics.request_record(status=200, duration_ms=700, now=now)
    assert metrics.request_stats(window_minutes=5, now=now) == {
        "requests": 100, "server_errors": 0, "request_rate": 0.333, "error_rate": 0.0, "p95_ms": 1000.0,
    }
    # Counts older than the window are not read.
    assert metrics.request_stats(window_minutes=5, now=now + 5 * 60)["requests"] == 0


def test_failed_webhooks_in_the_system_log_alert_and_old_ones_do_not(recent_backup):
    SystemLog.objects.create(level=40, logger="common.tasks.failures", message="x", event="webhook_failed",
                             created_at=timezone.now() - timezone.timedelta(minutes=30))
    assert monitor()[0] == 0
    SystemLog.objects.create(level=40, logger="common.tasks.failures", message="x", event="webhook_failed")
    code, out = monitor()
    assert code == 2
    assert "ALERT   failed_webhooks  1 (max 0)  system log" in out.splitlines()


def test_no_backup_and_no_heartbeat_yet_is_unknown_exit_3():
    code, out = monitor()
    assert code == 3
    assert out.splitlines()[-2:] == [
        "UNKNOWN backup_age       ? h (max 26)  no successful backup yet",
        "UNKNOWN beat_age         ? s (max 180)  no heartbeat yet: is beat running?",
    ]


def test_a_stale_heartbeat_alerts_and_a_redelivered_tick_counts_once():
    from common.services.system_log import beat_heartbeat_record
    from common.tasks import beat_heartbeat

    beat_heartbeat_record(task_id="t-old", source="w1")
    SystemLog.objects.filter(event="beat_heartbeat").update(created_at=timezone.now() - timezone.timedelta(minutes=10))
    code, out = monitor()
    assert code == 2 and any(line.startswith("ALERT   beat_age         600") for line in out.splitlines())
    assert beat_heartbeat.apply(task_id="tick-1").get() is True
    assert beat_heartbeat.apply(task_id="tick-1").get() is False  # the same tick delivered again
    assert SystemLog.objects.filter(event="beat_heartbeat", context__task_id="tick-1").count() == 1


@pytest.mark.services
def test_queue_depth_is_read_from_the_broker(require_broker):
    from config.celery import app

    queue = f"monitor-test-{uuid.uuid4().hex[:8]}"
    try:
        for _ in range(3):
            app.send_task("common.tasks.system_log_prune", queue=queue)
        assert broker_queue_depth(queue=queue) == 3
    finally:
        with app.connection_for_write() as connection:
            connection.default_channel.queue_purge(queue)
    assert broker_queue_depth(queue=queue) == 0
