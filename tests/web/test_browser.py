"""Real-browser journeys in Debian's Chromium driven by Playwright, with axe-core on every page.

A uvicorn server started here serves one demo school on 127.0.0.1 and a free port. Each page
visited gets an accessibility check (no serious or critical axe violation) and a screenshot in
``test-artifacts/``. Without Chromium or axe-core these tests skip locally and fail under CI
(``tests/web/install_browser_deps.sh`` installs both).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from learnway.store import transaction
from learnway.store._schema import Accommodation, HintRow, ItemRow, StepRow, User
from learnway.web import DEMO_PASSWORD
from web.support import engine_of

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / ".cache" / "axe" / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip

pytestmark = [
    pytest.mark.browser,
    pytest.mark.parametrize("demo_template", ["sqlite"], indirect=True, scope="session"),
]


def _require_tools() -> None:
    missing = [str(p) for p in (Path(CHROMIUM), AXE) if not p.exists()]
    if shutil.which("chromium") is None and CHROMIUM not in missing:
        missing.append("chromium")
    if missing:
        message = f"browser tests need {missing}: run tests/web/install_browser_deps.sh"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(shared_app: FastAPI) -> Iterator[str]:
    _require_tools()
    import uvicorn

    port = _free_port()
    config = uvicorn.Config(shared_app, host="127.0.0.1", port=port, log_level="warning")
    runner = uvicorn.Server(config)
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not runner.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    runner.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser(server: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


class Visit:
    """A signed-in page with helpers: accessibility check and screenshot per page."""

    def __init__(self, browser: object, base: str, name: str, *, width: int = 1280) -> None:
        context = browser.new_context(  # type: ignore[attr-defined]
            bypass_csp=True, viewport={"width": width, "height": 900}
        )
        self.page = context.new_page()
        self.base = base
        self.name = name
        self.shots = 0
        self.page.set_default_timeout(15_000)

    def sign_in(self, username: str) -> None:
        self.page.goto(f"{self.base}/login")
        self.check("login")
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password").fill(DEMO_PASSWORD)
        self.page.get_by_role("button", name="Sign in").click()
        self.page.wait_for_url(re.compile(r"/(students|sections|reports)"))
        self.page.wait_for_load_state("networkidle")

    def check(self, label: str) -> None:
        """axe-core on the page as it is now (no serious or critical violation) + screenshot."""
        page = self.page
        page.wait_for_load_state("networkidle")
        if not page.evaluate("typeof axe !== 'undefined'"):
            page.add_script_tag(path=str(AXE))
        violations = page.evaluate(
            "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
            ".map(v => ({id: v.id, impact: v.impact, help: v.help,"
            " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))"
        )
        bad = [v for v in violations if v["impact"] in ("serious", "critical")]
        ARTIFACTS.mkdir(exist_ok=True)
        self.shots += 1
        page.screenshot(path=str(ARTIFACTS / f"{self.name}-{self.shots:02d}-{label}.png"),
                        full_page=label != "heatmap")  # fmt: skip
        assert bad == [], f"accessibility violations on {page.url}: {bad}"


def _practice_target(app: FastAPI) -> tuple[str, str, str]:
    """An item whose first step is a text box with hints: (item key, wrong, right answer)."""
    with transaction(engine_of(app)) as session:
        row = session.execute(
            select(ItemRow.key, StepRow.answers)
            .join(StepRow, StepRow.item_id == ItemRow.id)
            .where(StepRow.position == 0, StepRow.problem_type == "TextBox",
                   StepRow.answer_type == "arithmetic",
                   StepRow.id.in_(select(HintRow.step_id)))
            .order_by(ItemRow.key)
            .limit(1)
        ).one()  # fmt: skip
    return row[0], "123456789", str(row[1][0]).replace("$$", "")


def test_student_journey(browser: object, server: str, shared_app: FastAPI) -> None:
    visit = Visit(browser, server, "student")
    page = visit.page
    visit.sign_in("student01")
    assert "/path" in page.url
    recs = page.locator("li.rec")
    assert 3 <= recs.count() <= 5
    visit.check("path")
    # choose a recommended activity (free choice: any of them)
    recs.first.get_by_role("link").click()
    page.wait_for_url(re.compile("/practice/"))
    visit.check("practice")
    # then practise a step with hints, to answer wrongly, ask for a hint and answer rightly
    key, wrong, right = _practice_target(shared_app)
    page.goto(f"{server}/practice/{key}")
    assert page.locator(".katex").count() > 0 or "$$" not in page.content()
    page.get_by_label("Your answer").fill(wrong)
    page.get_by_role("button", name="Check my answer").click()
    page.wait_for_selector(".feedback.wrong")
    visit.check("wrong")
    before = page.locator(".mastery-change li").first.get_attribute("data-after")
    page.get_by_role("link", name=re.compile("Get a hint")).click()
    page.wait_for_selector(".hint")
    visit.check("hint")
    page.get_by_label("Your answer").fill(right)
    page.get_by_role("button", name="Check my answer").click()
    page.wait_for_selector(".feedback.right")
    visit.check("right")
    change = page.locator(".mastery-change li").first.inner_text()
    shown = page.locator(".mastery-change li").first
    assert shown.get_attribute("data-before") == before, "the change starts where it stood"
    assert "→" in change and shown.get_attribute("data-after") != before, (before, change)
    # and on the path page
    for label, link in (("goals", "My goals"), ("growth", "My growth"),
                        ("interests", "My interests")):  # fmt: skip
        page.get_by_role("link", name=link).click()
        page.wait_for_url(re.compile(f"/{label}$"))
        visit.check(label)
        if label == "growth":
            assert page.locator("svg[role=img] circle").count() > 0


def test_teacher_journey(browser: object, server: str) -> None:
    visit = Visit(browser, server, "teacher")
    page = visit.page
    visit.sign_in("teacher")
    visit.check("classes")
    page.get_by_role("link", name="Heatmap").first.click()
    page.wait_for_url(re.compile("/heatmap"))
    page.wait_for_selector("table.heatmap")
    visit.check("heatmap")
    assert "(recent work)" in page.locator("#unit option:checked").inner_text()
    heatmap = page.url
    page.locator("table.heatmap td.h a").first.click()
    page.wait_for_url(re.compile("/evidence/"))
    page.wait_for_selector("table.attempts")
    visit.check("evidence")
    page.goto(heatmap)
    page.get_by_role("link", name="Who needs me today").click()
    page.wait_for_url(re.compile("/needs"))
    visit.check("needs")
    stuck = page.locator("li.need-stuck")
    assert stuck.count() > 0 and "Stuck:" in stuck.first.locator(".rule").inner_text()
    assert stuck.first.get_by_role("button", name="Mark as seen").count() == 1
    stuck.first.locator("h3 a").click()
    page.wait_for_selector("#h-needs")
    visit.check("student")
    page.go_back()
    page.wait_for_url(re.compile("/needs"))
    page.get_by_role("link", name="Groups").click()
    page.wait_for_url(re.compile("/groups"))
    visit.check("groups")
    form = page.locator("form", has=page.get_by_role("button", name="Create group"))
    form.get_by_label("Group name").fill("Browser group")
    boxes = form.locator("input[type=checkbox]")
    for i in range(3):
        boxes.nth(i).check()
    form.get_by_role("button", name="Create group").click()
    page.wait_for_selector("section.saved h3:has-text('Browser group')")
    saved = page.locator("section.saved", has=page.locator("h3:has-text('Browser group')"))
    reading = "Read 2.1: Solve Equations Using the Subtraction and Addition Properties of Equality"
    saved.get_by_label("Assign activity").select_option(label=reading)
    saved.get_by_role("button", name="Assign to group").click()
    page.wait_for_selector("text=Assigned to 3 students")
    visit.check("assigned")
    page.get_by_role("link", name="Pacing").click()
    page.wait_for_url(re.compile("/pacing"))
    visit.check("pacing")


def test_leader_sees_a_suppressed_cell(browser: object, server: str) -> None:
    visit = Visit(browser, server, "leader")
    page = visit.page
    visit.sign_in("principal")
    visit.check("mastery")
    page.get_by_label("Break down by").select_option("race")
    page.get_by_role("button", name="Show").click()
    page.wait_for_selector(".suppressed")
    assert page.locator("td .suppressed").count() > 0
    visit.check("mastery-by-race")
    for label in ("Gaps over time", "Supports"):
        page.get_by_role("link", name=label).click()
        page.wait_for_url(re.compile(f"/reports/{label.split()[0].lower()}"))
        visit.check(label.split()[0].lower())


def test_phone_width_and_error_pages(browser: object, server: str) -> None:
    visit = Visit(browser, server, "phone", width=375)
    page = visit.page
    visit.sign_in("student01")
    visit.check("path")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 380, f"the page scrolls sideways at phone width ({width}px)"
    page.goto(f"{server}/students/999999")
    visit.check("not-found")
    assert "no student 999999" in page.content()
    page.goto(f"{server}/reports/mastery")
    visit.check("forbidden")
    assert "open to" in page.content()
    # keyboard: the skip link is the first stop and moves to the main content
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"


def _accommodated(app: FastAPI, kind: str) -> str:
    """The username of a demo student with this accommodation."""
    with transaction(engine_of(app)) as session:
        found = session.scalar(
            select(User.username)
            .join(Accommodation, Accommodation.student_id == User.id)
            .where(Accommodation.kind == kind)
            .order_by(User.username)
        )
    assert found is not None, f"the demo school has a student with {kind}"
    return found


def _multiple_choice(app: FastAPI) -> tuple[str, str]:
    """An item whose first step offers more than three choices: (item key, right answer)."""
    with transaction(engine_of(app)) as session:
        rows = session.execute(
            select(ItemRow.key, StepRow.choices, StepRow.answers)
            .join(StepRow, StepRow.item_id == ItemRow.id)
            .where(StepRow.position == 0, StepRow.problem_type == "MultipleChoice")
            .order_by(ItemRow.key)
        ).all()
    for key, choices, answers in rows:
        if len(choices) > 3 and answers:
            return key, str(answers[0])
    pytest.fail("no multiple-choice step with more than three choices")


def test_accommodations_act(browser: object, server: str, shared_app: FastAPI) -> None:
    key, _, _ = _practice_target(shared_app)
    # read aloud: the prompt goes to the browser's speech synthesis
    visit = Visit(browser, server, "read-aloud")
    page = visit.page
    page.add_init_script(
        "window.__spoken = [];"
        "if ('speechSynthesis' in window) { window.speechSynthesis.speak ="
        " function (u) { window.__spoken.push(u.text); }; }"
    )
    visit.sign_in(_accommodated(shared_app, "read aloud"))
    page.goto(f"{server}/practice/{key}")
    visit.check("read-aloud")
    prompt = page.locator(".current .prompt").inner_text().strip()
    page.get_by_role("button", name="Read aloud").click()
    spoken = page.evaluate("window.__spoken")
    assert spoken and "\\" not in spoken[0] and "$$" not in spoken[0], spoken
    squeeze = re.compile(r"\s+")
    assert squeeze.sub("", spoken[0]) in squeeze.sub("", prompt), (prompt, spoken)
    # extended time: the step's time guide is half as long again, and counts down
    visit = Visit(browser, server, "extended-time")
    visit.sign_in(_accommodated(shared_app, "extended time"))
    visit.page.goto(f"{server}/practice/{key}")
    guide = visit.page.locator(".time-guide")
    assert guide.get_attribute("data-seconds") == "135"
    assert "extended time" in guide.inner_text()
    visit.page.wait_for_function(
        "document.querySelector('.time-left').textContent.includes('left')"
    )
    visit.check("extended-time")
    # and without it, the plain guide
    plain = Visit(browser, server, "no-accommodation")
    plain.sign_in("student01")
    plain.page.goto(f"{server}/practice/{key}")
    assert plain.page.locator(".time-guide").get_attribute("data-seconds") == "90"
    assert plain.page.get_by_role("button", name="Read aloud").count() == 0
    # reduced set: three choices, the right one among them
    mc_key, right = _multiple_choice(shared_app)
    visit = Visit(browser, server, "reduced-choices")
    visit.sign_in(_accommodated(shared_app, "reduced set"))
    visit.page.goto(f"{server}/practice/{mc_key}")
    radios = visit.page.locator("input[type=radio][name=response]")
    assert radios.count() == 3
    values = [radios.nth(i).get_attribute("value") for i in range(3)]
    assert right in values
    visit.check("reduced-choices")
    plain.page.goto(f"{server}/practice/{mc_key}")
    assert plain.page.locator("input[type=radio][name=response]").count() > 3
