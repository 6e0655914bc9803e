"""A backup plus every export, in one new directory: what an operator hands to an auditor or keeps offline."""

import io
import json
from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from common.services import backups

# By name, not by import: each app exports its own data (common sits below every app).
EXPORTS = [
    ("export_users", ["--format", "json"], "users.json"),
    ("export_prompts", ["--format", "csv"], "prompt_templates.csv"),
    ("export_prompts", ["--format", "json"], "prompt_templates.json"),
]


class Command(BaseCommand):
    help = "Back up the database and write every export into DIR/plateau-export-<time>/ with an index."

    def add_arguments(self, parser):
        parser.add_argument("-o", "--output", required=True, help="directory; a new dated folder is made inside")

    def handle(self, *args, output, **options):
        folder = Path(output) / f"plateau-export-{timezone.now():%Y%m%dT%H%M%SZ}"
        if folder.exists():
            raise CommandError(f"{folder} already exists")
        folder.mkdir(parents=True)
        try:
            log = backups.backup_create(output_dir=folder, triggered_by="export_full")
        except backups.BackupError as error:
            raise CommandError(str(error)) from error
        files = {"backup": Path(log.path).name}
        for command, arguments, name in EXPORTS:
            call_command(command, *arguments, "-o", str(folder / name), stdout=io.StringIO(), stderr=io.StringIO())
            files[name] = name
        index = {
            "created_at": log.started_at.isoformat(), "backup_sha256": log.checksum, "files": sorted(files.values()),
        }
        (folder / "index.json").write_text(json.dumps(index, indent=2) + "\n")
        self.stdout.write(f"{folder}: {', '.join(sorted(files.values()))}")
