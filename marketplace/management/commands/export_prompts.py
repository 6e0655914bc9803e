import json

from django.core.management.base import BaseCommand, CommandError

from common.exporting import EXPORT_CHUNK_SIZE, export_write
from marketplace.models import PromptTemplate, TemplateStatus
from marketplace.selectors import PROMPT_EXPORT_FIELDS, prompt_template_export_rows


class Command(BaseCommand):
    help = "Export prompt templates (drafts included unless --status) as CSV or JSON, streamed: constant memory."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=["csv", "json"], default="csv")
        parser.add_argument("-o", "--output", default=None, help="file (default: stdout)")
        parser.add_argument("--status", choices=TemplateStatus.values, default="")
        parser.add_argument("--chunk-size", type=int, default=EXPORT_CHUNK_SIZE, help="templates read per query")

    def handle(self, *args, format="csv", output=None, status="", chunk_size=EXPORT_CHUNK_SIZE, **options):
        if chunk_size < 1:
            raise CommandError("--chunk-size must be at least 1")

        def rows():
            for row in prompt_template_export_rows(status=status, chunk_size=chunk_size):
                if format == "csv":  # variables as JSON in their cell: a reader can parse them back exactly
                    row["variables"] = json.dumps(row["variables"])
                yield row

        def count():
            templates = PromptTemplate.objects.all()
            return (templates.filter(status=status) if status else templates).count()

        export_write(rows=rows, count=count, description="prompt templates", format=format, output=output,
                     csv_fields=PROMPT_EXPORT_FIELDS, stdout=self.stdout, stderr=self.stderr)
