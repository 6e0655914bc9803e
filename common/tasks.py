"""Celery tasks of the shared parts (outbox, operations): thin wrappers, safe to run twice."""

import logging
from pathlib import Path

from celery import shared_task
from django.conf import settings
from django.core.cache import cache

from common import outbox
from common.services import backups, system_log

logger = logging.getLogger(__name__)

# One backup at a time across every worker: beat may deliver late twice, an operator may run one by hand.
BACKUP_LOCK_SECONDS = 6 * 3600


def _once(key: str):
    """A cache lock (Redis in production) so two workers never run the same backup job together."""
    return cache.add(f"ops:lock:{key}", "1", BACKUP_LOCK_SECONDS)


@shared_task(name="common.tasks.backup_scheduled")
def backup_scheduled() -> str | None:
    if not _once("backup"):
        logger.warning("a backup is already running; this one is skipped")
        return None
    try:
        log = backups.backup_create(output_dir=settings.BACKUP_DIR, triggered_by="beat")
        backups.backups_prune(
            directory=settings.BACKUP_DIR,
            daily=settings.BACKUP_KEEP_DAILY,
            weekly=settings.BACKUP_KEEP_WEEKLY,
            monthly=settings.BACKUP_KEEP_MONTHLY,
        )
        return log.path
    except backups.BackupError:
        return None  # recorded on the log row and in the system log (backup_failed)
    finally:
        cache.delete("ops:lock:backup")


@shared_task(name="common.tasks.backup_verify_scheduled")
def backup_verify_scheduled() -> bool:
    latest = backups.backup_latest_path(directory=settings.BACKUP_DIR)
    if latest is None:
        backups.backup_verify_failed_notify(error="there is no backup to verify in " + str(settings.BACKUP_DIR))
        return False
    try:
        backups.backup_verify(path=Path(latest), triggered_by="beat")
    except backups.BackupError as error:
        backups.backup_verify_failed_notify(error=str(error), path=str(latest))
        return False
    return True


@shared_task(name="common.tasks.beat_heartbeat", bind=True)
def beat_heartbeat(self) -> bool:
    """One row per beat tick, so `monitor` can tell that beat is alive and a test that no tick ran twice.

    A tick redelivered after a worker died mid-run finds its key and does nothing.
    """
    if not cache.add(f"ops:beat:{self.request.id}", "1", 24 * 3600):
        return False
    system_log.beat_heartbeat_record(task_id=self.request.id or "", source=self.request.hostname or "")
    return True


@shared_task(name="common.tasks.system_log_prune")
def system_log_prune() -> int:
    return system_log.system_log_prune(days=settings.SYSTEM_LOG_RETENTION_DAYS)


@shared_task(name="common.outbox_run", ignore_result=True)
def outbox_run_task(*, message_id: int) -> bool:
    return outbox.outbox_run(message_id=message_id)


@shared_task(name="common.outbox_relay", ignore_result=True)
def outbox_relay_task() -> int:
    return outbox.outbox_relay()
