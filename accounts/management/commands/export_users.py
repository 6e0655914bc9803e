from django.core.management.base import BaseCommand, CommandError

from accounts.models import Role
from accounts.selectors.exports import user_export_rows, user_list_for_operators
from common.exporting import EXPORT_CHUNK_SIZE, csv_write, json_array_write, output_open, progress

CSV_FIELDS = ["id", "email", "is_active", "is_staff", "is_superuser", "date_joined", "last_login", "display_name",
              "company", "memberships"]


class Command(BaseCommand):
    help = "Export every user (profile and memberships) as JSON or CSV, streamed: constant memory."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["json", "csv"], default="json")
        parser.add_argument("-o", "--output", default=None, help="file (default: stdout)")
        parser.add_argument("--role", choices=Role.values, default="")
        parser.add_argument("--org", default="", help="organization slug or id")
        parser.add_argument("--chunk-size", type=int, default=EXPORT_CHUNK_SIZE, help="users read per query")

    def handle(self, *args, format="json", output=None, role="", org="", chunk_size=EXPORT_CHUNK_SIZE, **options):
        if chunk_size < 1:
            raise CommandError("--chunk-size must be at least 1")
        users = user_list_for_operators(role=role, organization=org)
        total = users.count() if self.stderr.isatty() else None
        with output_open(output, stdout=self.stdout) as out, progress(
            total=total, description="users", stream=self.stderr
        ) as wrap:
            rows = wrap(user_export_rows(users=users, chunk_size=chunk_size))
            if format == "json":
                count = json_array_write(rows, out=out)
            else:
                count = csv_write(
                    ({**row, "memberships": [f"{m['organization']}:{m['role']}" for m in row["memberships"]]}
                     for row in rows),
                    fields=CSV_FIELDS, out=out,
                )
        if output:
            self.stderr.write(f"{count} users written to {output}")
