"""No dead ends: signed in as each role on the demo school, every link reachable from that
role's pages (same origin, GET; bounded per kind of page) answers without a 4xx or 5xx and
without raw validation text; axe-core finds no violation on each kind of page.

Links are followed by the browser context's own requests (its cookies, its session); one page
of each kind is opened in Chromium for axe. A kind is the address with its ids and keys
generalised (``/students/{id}/goals``), so a class of 30 students is visited a few times per
kind of page, not 30 times.
"""

from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest

from web.test_browser import AXE, Visit, browser, server  # noqa: F401  (fixtures)

ON_DEMO = pytest.mark.parametrize("demo_template", ["sqlite"], indirect=True, scope="session")

ROLES = ["student01", "teacher", "principal", "district", "guardian01"]
PER_KIND = 4
"""Addresses visited per kind of page (the first ones found)."""
MAX_PAGES = 220
RAW_VALIDATION = re.compile(
    r"should have at least|validation error|Input should be|Field required|"
    r"value is not a valid|List should|String should|type=\w+_(?:error|parsing)",
    re.IGNORECASE,
)
SKIP = ("/static/", "/api/", "/logout", "/xapi", "/lti")


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


def links_of(html: str, base: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    out = []
    for href in parser.hrefs:
        absolute = urljoin(base, href).split("#")[0]
        if urlsplit(absolute).netloc == urlsplit(base).netloc:
            out.append(absolute)
    return out


def kind_of(url: str) -> str:
    """The kind of page: the path with ids and keys generalised, the query's names kept."""
    parts = urlsplit(url)
    path = re.sub(r"/\d+(?=/|$)", "/{id}", parts.path)
    path = re.sub(r"/evidence/.+$", "/evidence/{code}", path)
    path = re.sub(r"^/practice/competency/.+$", "/practice/competency/{code}", path)
    path = re.sub(r"^/practice/(?!competency/)[^/]+$", "/practice/{item}", path)
    names = sorted({q.split("=")[0] for q in parts.query.split("&") if q})
    return path + ("?" + "&".join(names) if names else "")


def crawl(visit: Visit, start: str) -> tuple[dict[str, int], dict[str, str], list[str]]:
    """Breadth first from ``start``: (status per address, first address per kind, problems)."""
    request = visit.page.context.request
    seen: dict[str, int] = {}
    first_of_kind: dict[str, str] = {}
    per_kind: dict[str, int] = {}
    problems: list[str] = []
    queue = deque([start])
    while queue and len(seen) < MAX_PAGES:
        url = queue.popleft()
        if url in seen:
            continue
        response = request.get(url, max_redirects=5)
        seen[url] = response.status
        final = response.url
        text = response.text() if "html" in response.headers.get("content-type", "") else ""
        if response.status >= 400:
            problems.append(f"{response.status} at {url}")
        if RAW_VALIDATION.search(text):
            problems.append(f"raw validation text at {url}: {RAW_VALIDATION.search(text)}")
        if text:
            first_of_kind.setdefault(kind_of(final), final)
        for link in links_of(text, final):
            if any(urlsplit(link).path.startswith(p) for p in SKIP) or link in seen:
                continue
            kind = kind_of(link)
            if per_kind.get(kind, 0) >= PER_KIND:
                continue
            per_kind[kind] = per_kind.get(kind, 0) + 1
            queue.append(link)
    return seen, first_of_kind, problems


@pytest.mark.browser
@ON_DEMO
@pytest.mark.parametrize("username", ROLES)
def test_every_link_of_each_role_works_and_passes_axe(
    browser: object,  # noqa: F811
    server: str,  # noqa: F811
    username: str,
) -> None:
    visit = Visit(browser, server, f"crawl-{username}")
    visit.page.set_default_timeout(60_000)  # a slow shared machine: long, not flaky
    visit.sign_in(username)
    start = visit.page.url
    seen, kinds, problems = crawl(visit, start)
    assert problems == [], problems
    assert len(seen) >= 4, f"{username} reached only {sorted(seen)}"
    failures = {}
    for url in sorted(kinds.values()):
        visit.page.goto(url)
        found = axe_violations(visit)
        if found:
            failures[url] = found
    print(f"{username}: {len(seen)} addresses, {len(kinds)} kinds of page checked with axe")
    assert failures == {}, failures


def axe_violations(visit: Visit) -> list[dict[str, object]]:
    """Every axe-core violation on the page as it is now, whatever its impact."""
    page = visit.page
    page.wait_for_load_state("networkidle")
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    found: list[dict[str, object]] = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3)"
        ".map(n => n.target.join(' '))}))"
    )
    return found


def test_kinds_generalise_ids_and_codes() -> None:
    assert kind_of("http://h/students/12/goals") == "/students/{id}/goals"
    assert kind_of("http://h/sections/1/students/3/evidence/a/b") == (
        "/sections/{id}/students/{id}/evidence/{code}"
    )
    assert kind_of("http://h/sections/1/heatmap?unit=u2&sort=x") == (
        "/sections/{id}/heatmap?sort&unit"
    )
    assert kind_of("http://h/practice/abc12") == "/practice/{item}"
