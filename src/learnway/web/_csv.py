"""CSV exports: every CSV file the web application sends is written here.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return would be run as a
formula by a spreadsheet that opens the file (CSV injection). Following OWASP, such a text cell
is prefixed with a single quote, every cell is quoted, and quotes inside are doubled; numbers
are written as numbers. ``tests/web/test_csv.py`` fails when a module of the web application
writes CSV any other way.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence

from fastapi.responses import Response

__all__ = [
    "CSV_MEDIA_TYPE",
    "CSV_RESPONSES",
    "FORMULA_START",
    "Cell",
    "csv_response",
    "csv_text",
    "safe_cell",
]

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
CSV_RESPONSES: dict[int | str, dict[str, object]] = {200: {"content": {"text/csv": {}}}}
"""What a CSV route declares in the API description (``responses=CSV_RESPONSES``)."""
Cell = str | int | float | bool | None


def safe_cell(value: Cell) -> str | int | float:
    """The cell as written: text that a spreadsheet would read as a formula gets a ``'``."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> str:
    """A whole CSV document (header first), every cell escaped and quoted."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return buffer.getvalue()


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> Response:
    """A CSV download named ``filename`` (letters, digits, ``-``, ``_`` and ``.`` kept)."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", filename) or "export.csv"
    return Response(
        csv_text(header, rows),
        media_type=CSV_MEDIA_TYPE,
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )
