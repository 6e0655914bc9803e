from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from common.services import backups


class Command(BaseCommand):
    help = "Replace the database's contents with a backup's. Checks the file first; refuses without --yes."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--yes", action="store_true", help="really overwrite the database")

    def handle(self, *args, file, yes=False, **options):
        path = Path(file)
        try:
            with backups.backup_open(path=path) as (manifest, _payload):
                plan = backups.restore_plan(manifest=manifest)
        except backups.BackupError as error:
            raise CommandError(f"refused: {error}") from error
        for line in plan.describe():
            self.stdout.write(line)
        if not yes:
            raise CommandError("refused: nothing was changed. Run again with --yes to restore.")
        try:
            log = backups.backup_restore(path=path, triggered_by="command")
        except backups.BackupError as error:
            raise CommandError(f"restore failed, the database was left as it was: {error}") from error
        self.stdout.write(f"restored {sum(log.row_counts.values())} rows in {len(log.row_counts)} tables from {path}")
        self.stdout.write("Next: python manage.py migrate (the backup may predate this release's migrations).")
