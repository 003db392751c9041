"""CSV exports: formula-leading cells escaped (OWASP), and every CSV written through one helper."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest

from learnway.web._csv import csv_response, csv_text, safe_cell

WEB = Path(__file__).resolve().parents[2] / "src" / "learnway" / "web"


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://evil.example","x")', '\'=HYPERLINK("http://evil.example","x")'),
        ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Ana María", "Ana María"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
        (-3, -3),
        (0.25, 0.25),
        (True, "true"),
    ],
)
def test_a_formula_leading_cell_is_escaped(value: object, written: object) -> None:
    assert safe_cell(value) == written  # type: ignore[arg-type]


def test_the_document_reads_back_with_every_text_cell_quoted() -> None:
    text = csv_text(
        ["name", "=note", "score"],
        [["=1+1", 'say "hi", then go', 0.5], ["@me", "line\nbreak", -2]],
    )
    assert text.splitlines()[0] == '"name","\'=note","score"'
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows == [
        ["name", "'=note", "score"],
        ["'=1+1", 'say "hi", then go', "0.5"],
        ["'@me", "line\nbreak", "-2"],
    ]
    assert not any(cell.startswith(("=", "+", "@", "\t", "\r")) for row in rows for cell in row)


def test_the_response_is_a_named_csv_download() -> None:
    response = csv_response('report "2026"/../x.csv', ["a"], [["-1"]])
    assert response.media_type == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        'attachment; filename="report__2026__.._x.csv"'
    )
    assert bytes(response.body).decode() == '"a"\r\n"\'-1"\r\n'


def test_no_module_of_the_web_application_writes_csv_but_the_helper() -> None:
    writes_csv = re.compile(r"\bcsv\.(writer|DictWriter)\b|\.to_csv\(|write_csv\(|text/csv")
    offenders = [
        str(path.relative_to(WEB))
        for path in sorted(WEB.rglob("*.py"))
        if path.name != "_csv.py" and writes_csv.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == [], f"write CSV through learnway.web._csv: {offenders}"
