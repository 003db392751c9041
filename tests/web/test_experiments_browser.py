"""A leader defines, launches and reads an experiment in a real browser, and reads the
efficacy pages; axe-core checks every page (no serious or critical violation)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from web.test_browser import Visit, browser, server  # noqa: F401  (fixtures)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("demo_template", ["sqlite"], indirect=True, scope="session"),
]


def test_leader_defines_launches_and_reads_an_experiment(browser: object, server: str) -> None:  # noqa: F811
    visit = Visit(browser, server, "experiments")
    page = visit.page
    visit.sign_in("principal")
    page.get_by_role("link", name="Experiments").first.click()
    page.wait_for_url(re.compile("/experiments$"))
    visit.check("experiments")
    page.get_by_role("link", name="Define an experiment").click()
    page.wait_for_url(re.compile("/experiments/new"))
    visit.check("define")
    page.get_by_label("Title").fill("Review schedule trial")
    page.get_by_label("Short name").fill("browser-review")
    page.get_by_label("What varies").select_option("review_schedule")
    page.get_by_label("Condition 1").fill("usual")
    page.get_by_label("Condition 2").fill("no review")
    page.locator("#share-2").fill("1")
    page.locator("#settings-2").fill("review=false")
    for box in page.locator("input[name=sections]").all():
        box.check()
    start = dt.date.today() - dt.timedelta(days=10)
    page.get_by_label("Start").fill(start.isoformat())
    page.get_by_role("button", name="Save as a draft").click()
    page.wait_for_url(re.compile(r"/experiments/\d+$"))
    assert "Draft" in page.content()
    visit.check("draft")
    page.get_by_role("button", name=re.compile("Launch")).click()
    page.wait_for_selector("text=Interim look")
    assert "Running" in page.content()
    visit.check("running")
    page.get_by_role("button", name=re.compile("Stop and freeze")).click()
    page.wait_for_selector("h2:has-text('Result')")
    text = page.locator("main").inner_text()
    assert "95% interval" in text and "Attrition" in text
    visit.check("finished")


def test_leader_reads_what_works(browser: object, server: str) -> None:  # noqa: F811
    visit = Visit(browser, server, "efficacy")
    page = visit.page
    visit.sign_in("principal")
    page.get_by_role("link", name="What works").first.click()
    page.wait_for_url(re.compile("/efficacy/supports"))
    assert "Correlational evidence" in page.locator("main").inner_text()
    visit.check("supports")
    page.goto(f"{server}/efficacy/content")
    assert page.locator("figure svg").count() >= 1
    visit.check("content")
