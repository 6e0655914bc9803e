"""`?format=csv` on every analytics endpoint: the response's table as CSV, one row per entry."""

import csv
import io

from rest_framework.renderers import BaseRenderer


class TableCsvRenderer(BaseRenderer):
    """Renders the one list in a response body (points, customers, cohorts...) as CSV with a header row.

    Other top-level values (the period, the limit) are repeated on each row so a row
    stands alone in a spreadsheet; list cells (a cohort's retention) become `a;b;c`. An
    error body is rendered as one row of its status, code and message.
    """

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        if response is not None and response.status_code >= 400:
            rows, header = [{k: data.get(k) for k in ("status", "code", "message")}], ["status", "code", "message"]
        else:
            table_key = next((k for k, v in data.items() if isinstance(v, list)), None)
            context = {k: v for k, v in data.items() if k != table_key and not isinstance(v, dict | list)}
            rows = [{**context, **row} for row in (data.get(table_key) or [])] if table_key else [context]
            header = list(dict.fromkeys(key for row in rows for key in row)) or list(context)
        view = (renderer_context or {}).get("view")
        if response is not None:
            name = getattr(view, "csv_name", "") or "analytics"
            response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ";".join(str(x) for x in v) if isinstance(v, list) else v for k, v in row.items()})
        return out.getvalue().encode(self.charset)
