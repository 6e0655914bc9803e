import json

from django.core.management.base import BaseCommand, CommandError

from common.exporting import EXPORT_CHUNK_SIZE, csv_write, json_array_write, output_open, progress
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
        total = None
        if self.stderr.isatty():
            templates = PromptTemplate.objects.all()
            total = (templates.filter(status=status) if status else templates).count()
        with output_open(output, stdout=self.stdout) as out, progress(
            total=total, description="prompt templates", stream=self.stderr
        ) as wrap:
            rows = wrap(prompt_template_export_rows(status=status, chunk_size=chunk_size))
            if format == "json":
                count = json_array_write(rows, out=out)
            else:
                # Variables as JSON in their cell: a reader can parse them back exactly.
                rows = ({**row, "variables": json.dumps(row["variables"])} for row in rows)
                count = csv_write(rows, fields=PROMPT_EXPORT_FIELDS, out=out)
        if output:
            self.stderr.write(f"{count} prompt templates written to {output}")
