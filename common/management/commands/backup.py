from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from common.services import backups


class Command(BaseCommand):
    help = "Back the database up into one checksummed, compressed file with a manifest; --verify restores it into a scratch database and compares row counts."  # noqa: E501

    def add_arguments(self, parser):
        parser.add_argument("--output", "-o", default=None, help="directory (default: BACKUP_DIR)")
        parser.add_argument("--verify", action="store_true", help="then restore it into a scratch database and compare")
        parser.add_argument("--prune", action="store_true", help="then delete what retention does not keep")

    def handle(self, *args, output=None, verify=False, prune=False, **options):
        directory = Path(output) if output else Path(settings.BACKUP_DIR)
        try:
            log = backups.backup_create(output_dir=directory, triggered_by="command")
            self.stdout.write(
                f"backup {log.path} ({log.size_bytes} bytes, {sum(log.row_counts.values())} rows in "
                f"{len(log.row_counts)} tables, sha256 {log.checksum})"
            )
            if verify:
                checked = backups.backup_verify(path=Path(log.path), triggered_by="command")
                self.stdout.write(f"verified: every table's row count matches after a trial restore ({len(checked.row_counts)} tables)")  # noqa: E501
        except backups.BackupError as error:
            raise CommandError(str(error)) from error
        if prune:
            for path in backups.backups_prune(
                directory=directory, daily=settings.BACKUP_KEEP_DAILY,
                weekly=settings.BACKUP_KEEP_WEEKLY, monthly=settings.BACKUP_KEEP_MONTHLY,
            ):
                self.stdout.write(f"pruned {path}")
