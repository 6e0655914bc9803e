from django.core.management.base import BaseCommand, CommandError

from accounts.models import Role
from accounts.selectors.exports import user_export_rows, user_list_for_operators
from common.exporting import EXPORT_CHUNK_SIZE, export_write

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

        def rows():
            for row in user_export_rows(users=users, chunk_size=chunk_size):
                if format == "csv":  # one cell: organization:role|organization:role
                    row["memberships"] = [f"{m['organization']}:{m['role']}" for m in row["memberships"]]
                yield row

        export_write(rows=rows, count=users.count, description="users", format=format, output=output,
                     csv_fields=CSV_FIELDS, stdout=self.stdout, stderr=self.stderr)
