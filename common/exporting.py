"""Streaming exports for management commands: JSON arrays and CSV written row by row.

Callers pass an iterator (a QuerySet's `.iterator(chunk_size=...)`), so memory stays
constant however many rows there are. A progress bar (rich) is drawn on stderr only when
it is a terminal; in a pipe or a cron job nothing but the data is written.
"""

import csv
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import IO, Any

EXPORT_CHUNK_SIZE = 2000


def _default(value: Any):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


def json_array_write(rows: Iterable[dict], *, out: IO[str]) -> int:
    """Write `[row, row, ...]`, one object per line, without holding the rows; returns the count."""
    count = 0
    out.write("[")
    for row in rows:
        out.write(",\n" if count else "\n")
        out.write(json.dumps(row, default=_default, ensure_ascii=False, sort_keys=False))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


def csv_write(rows: Iterable[dict], *, fields: list[str], out: IO[str]) -> int:
    """A header, then one line per row; lists are joined with '|' and dicts written as JSON."""
    writer = csv.writer(out)
    writer.writerow(fields)
    count = 0
    for row in rows:
        writer.writerow([_csv_cell(row.get(field)) for field in fields])
        count += 1
    return count


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return "|".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, default=_default, sort_keys=True)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


@contextmanager
def progress(*, total: int | None, description: str, stream: IO[str] | None = None) -> Iterator[Callable]:
    """Yield `wrap(iterable)`, which advances a progress bar on a terminal and does nothing elsewhere."""
    stream = stream if stream is not None else sys.stderr
    if not (hasattr(stream, "isatty") and stream.isatty()):
        yield lambda iterable: iterable
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
        console=Console(file=stream), transient=True,
    ) as bar:
        task = bar.add_task(description, total=total)

        def wrap(iterable):
            for item in iterable:
                yield item
                bar.advance(task)

        yield wrap


@contextmanager
def output_open(path: str | None, *, stdout: IO[str]) -> Iterator[IO[str]]:
    """`-o FILE` (written through a temporary name, so a half export never looks complete) or stdout."""
    if not path or path == "-":
        # A command's OutputWrapper adds a newline to every write; the data goes to the stream below it.
        yield getattr(stdout, "_out", stdout)
        return
    import os
    import tempfile
    from pathlib import Path

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(handle, "w", newline="", encoding="utf-8") as out:
            yield out
        os.replace(partial, target)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


def export_write(
    *, rows: Callable[[], Iterable[dict]], count: Callable[[], int], description: str, format: str,
    output: str | None, csv_fields: list[str], stdout, stderr,
) -> int:
    """What an export command does: stream `rows()` as JSON or CSV to `output` (or stdout), with a
    progress bar on a terminal (`count()` is asked only then), and say on stderr where it went."""
    total = count() if stderr.isatty() else None
    bar = progress(total=total, description=description, stream=stderr)
    with output_open(output, stdout=stdout) as out, bar as wrap:
        streamed = wrap(rows())
        if format == "json":
            written = json_array_write(streamed, out=out)
        else:
            written = csv_write(streamed, fields=csv_fields, out=out)
    if output:
        stderr.write(f"{written} {description} written to {output}")
    return written
