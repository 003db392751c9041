"""Growth and gap reports: a server-drawn chart beside each table, a CSV export that holds the
JSON twin's figures, small cells left out of the chart as from the table, and the pages read
in a real browser with axe-core."""

from __future__ import annotations

import csv
import io
import re

import pytest
from fastapi import FastAPI

from learnway.web._svg import bar_chart, lines_chart
from web.support import api_client, browser_client
from web.test_browser import Visit, browser, server  # noqa: F401  (fixtures)


def test_bars_are_proportional_and_a_hidden_group_has_none() -> None:
    chart = bar_chart([("a", 2.0), ("b", 4.0), ("c", None)], unit="Mean", hidden="hidden")
    (_, _, a0, a1, a_text), (_, _, b0, b1, _), (_, _, c0, c1, c_text) = chart.rows
    assert a0 == b0 == chart.zero_x
    assert (b1 - b0) == pytest.approx(2 * (a1 - a0), abs=0.2)
    assert c0 == c1 and c_text == "hidden" and a_text == "2"
    assert "a 2; b 4" in chart.description and "1 group(s) hidden" in chart.description


def test_a_missing_week_breaks_its_line() -> None:
    chart = lines_chart(["w1", "w2", "w3"], [("x", [1.0, None, 3.0]), ("y", [2.0, 2.0, 2.0])],
                        unit="Mean")  # fmt: skip
    (name_x, path_x, dash_x, points_x, *_), (_, path_y, dash_y, points_y, *_) = chart.series
    assert name_x == "x" and path_x.count("M") == 2 and "L" not in path_x
    assert path_y.count("M") == 1 and path_y.count("L") == 2
    assert dash_x != dash_y  # told apart without colour
    assert len(points_x) == 2 and len(points_y) == 3
    assert points_x[1][1] < points_x[0][1]  # 3 is drawn above 1
    assert "x from 1 (w1) to 3 (w3)" in chart.description


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_mastery_report_has_a_chart_and_a_csv_of_its_figures(app: FastAPI) -> None:
    client = api_client(app, "principal")
    data = client.get("/api/v1/reports/mastery", params={"by": "race"}).json()
    exported = client.get("/api/v1/reports/mastery.csv", params={"by": "race"})
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = _csv(exported.text)
    assert [r["race"] for r in rows] == [c["group"] for c in data["cells"]]
    for row, cell in zip(rows, data["cells"], strict=True):
        if cell["suppressed"]:
            assert row["students"] == row["mean_mastered"] == ""
        else:
            assert float(row["mean_mastered"]) == pytest.approx(cell["mean_mastered"])
            assert int(row["students"]) == cell["students"]
    assert any(c["suppressed"] for c in data["cells"])
    page = browser_client(app, "principal").get("/reports/mastery", params={"by": "race"})
    assert page.status_code == 200
    html = page.text
    assert html.count('<svg role="img"') == 2 and "<table>" in html
    hidden = [c["group"] for c in data["cells"] if c["suppressed"]]
    bars = re.findall(r"<rect [^>]*><title>([^<]*)</title>", html)
    shown = [c for c in data["cells"] if not c["suppressed"] and c["mean_mastered"] > 0]
    assert {t.split(":")[0] for t in bars} >= {c["group"] for c in shown}
    assert not any(t.split(":")[0] in hidden for t in bars)
    assert 'href="/api/v1/reports/mastery.csv?by=race"' in html


def test_gap_report_has_a_line_per_group_and_a_csv_of_its_figures(app: FastAPI) -> None:
    client = api_client(app, "principal")
    data = client.get("/api/v1/reports/gaps", params={"subgroup": "sex"}).json()
    rows = _csv(client.get("/api/v1/reports/gaps.csv", params={"subgroup": "sex"}).text)
    cells = [(p["week"], c) for p in data["points"] for c in p["cells"]]
    assert len(rows) == len(cells) > 0
    for row, (week, cell) in zip(rows, cells, strict=True):
        assert row["week_ending"] == week and row["sex"] == cell["group"]
        if not cell["suppressed"]:
            assert float(row["mean_mastered"]) == pytest.approx(cell["mean_mastered"])
    html = browser_client(app, "principal").get("/reports/gaps", params={"subgroup": "sex"}).text
    groups = {c["group"] for _, c in cells}
    chart = html[html.index('<svg role="img"') : html.index("</svg>")]
    assert chart.count('<path d="M') == len(groups)
    shown = sum(not c["suppressed"] for _, c in cells)
    assert chart.count("<circle ") == shown
    assert "<table>" in html[html.index("</svg>") :]


@pytest.mark.browser
@pytest.mark.parametrize("demo_template", ["sqlite"], indirect=True, scope="session")
def test_leader_reads_growth_and_gaps_in_a_browser(browser: object, server: str) -> None:  # noqa: F811
    visit = Visit(browser, server, "reports")
    page = visit.page
    visit.sign_in("principal")
    page.goto(f"{server}/reports/mastery?by=race")
    assert page.locator("figure svg[role=img]").count() == 2
    visit.check("growth")
    page.goto(f"{server}/reports/gaps?subgroup=sex")
    assert page.locator("figure svg[role=img] path").count() >= 1
    visit.check("gaps")
