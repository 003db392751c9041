"""Evidence pages and their JSON twins on the demo school: experiments defined, launched,
monitored, read and finished; supports' and content efficacy; CSV of every figure; only
leaders see any of it, and small cells stay hidden."""

from __future__ import annotations

import datetime as dt

from fastapi import FastAPI
from sqlalchemy import select

from learnway.analytics import CAVEAT
from learnway.store import transaction
from learnway.store._schema import Section, User
from web.support import api_client, browser_client, csrf_of, engine_of

TODAY = dt.date.today()


def _sections(app: FastAPI) -> list[int]:
    with transaction(engine_of(app)) as session:
        return sorted(session.scalars(select(Section.id)))


def _definition(app: FastAPI, key: str = "web-review") -> dict[str, object]:
    return {
        "key": key, "title": "Review off for half", "kind": "review_schedule",
        "conditions": [{"name": "usual", "share": 1},
                       {"name": "no review", "share": 1, "settings": {"review": False}}],
        "control": "usual", "sections": _sections(app), "outcome": "mastery_per_hour",
        "start_date": str(TODAY - dt.timedelta(days=10)),
        "end_date": str(TODAY + dt.timedelta(days=10)), "stratify": "section",
    }  # fmt: skip


def test_define_launch_read_and_finish_through_the_api(app: FastAPI) -> None:
    client = api_client(app, "principal")
    created = client.post("/api/v1/experiments", json=_definition(app))
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == "draft" and "Intention to treat" in body["analysis_plan"]
    launched = client.post(f"/api/v1/experiments/{body['id']}/launch").json()
    assert launched["status"] == "running" and launched["students"] >= 80
    assert launched["power"]["mde"] > 0
    assert sum(b["students"] for b in launched["balance"]) == launched["students"]
    assert launched["result"]["final"] is False
    assert launched["result"]["headline"].startswith("Interim look")
    again = client.post(f"/api/v1/experiments/{body['id']}/launch")
    assert again.status_code == 409
    done = client.post(f"/api/v1/experiments/{body['id']}/finish").json()
    assert done["status"] == "finished" and done["result"]["final"] is True
    primary = done["result"]["outcomes"][0]
    assert primary["primary"] and primary["outcome"] == "mastery_per_hour"
    effect = primary["effects"][0]
    assert effect["ci_low"] <= effect["estimate"] <= effect["ci_high"]
    assert "interval" in done["result"]["headline"]
    listed = client.get("/api/v1/experiments").json()["experiments"]
    assert {"web-review", "demo-spaced-review", "demo-check-ins"} <= {e["key"] for e in listed}


def test_a_bad_definition_is_refused_with_reasons(app: FastAPI) -> None:
    client = api_client(app, "principal")
    bad = {**_definition(app), "control": "nobody", "end_date": str(TODAY - dt.timedelta(days=30))}
    assert client.post("/api/v1/experiments", json=bad).status_code == 422
    taken = {**_definition(app), "key": "demo-spaced-review"}
    refused = client.post("/api/v1/experiments", json=taken)
    assert refused.status_code == 422 and "exists already" in refused.text
    page = browser_client(app, "principal")
    form = page.get("/experiments/new")
    shown = page.post("/experiments", data={
        "csrf_token": csrf_of(form.text), "title": "", "key": "x", "kind": "review_schedule",
        "name_1": "a", "share_1": "1", "name_2": "", "start_date": str(TODAY),
        "end_date": str(TODAY),
    })  # fmt: skip
    assert shown.status_code == 422 and "was not saved" in shown.text


def test_the_finished_demo_experiment_reads_in_plain_words(app: FastAPI) -> None:
    client = browser_client(app, "principal")
    listing = client.get("/experiments")
    assert listing.status_code == 200 and "Spaced review on or off" in listing.text
    data = api_client(app, "principal").get("/api/v1/experiments").json()["experiments"]
    finished = next(e for e in data if e["key"] == "demo-spaced-review")
    page = client.get(f"/experiments/{finished['id']}")
    assert page.status_code == 200
    text = page.text
    assert "Result" in text and "95% interval" in text and "<svg" in text
    assert "Attrition" in text and "pre-registered" in text
    twin = api_client(app, "principal").get(f"/api/v1/experiments/{finished['id']}").json()
    assert twin["result"]["headline"].split(" (")[0] in text.replace("&#39;", "'")
    for figure in ("results", "balance", "subgroups"):
        csv = client.get(f"/api/v1/experiments/{finished['id']}/{figure}.csv")
        assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
        assert csv.text.count("\r\n") >= 2
    results = client.get(f"/api/v1/experiments/{finished['id']}/results.csv").text
    assert "mastery_per_hour" in results


def test_supports_efficacy_shows_its_caveat_and_hides_small_groups(app: FastAPI) -> None:
    client = browser_client(app, "principal")
    page = client.get("/efficacy/supports")
    assert page.status_code == 200
    assert "Correlational evidence" in page.text
    assert CAVEAT.split(".")[0] in page.text
    twin = api_client(app, "principal").get("/api/v1/efficacy/supports").json()
    assert twin["caveat"] == CAVEAT
    kinds = {s["kind"]: s for s in twin["supports"]}
    assert "tutoring" in kinds and "any support" in kinds
    for s in twin["supports"]:
        if s["suppressed"]:
            assert s["students"] is None and s["estimate"] is None
        else:
            assert s["students"] >= twin["min_cell"]
            assert len(s["event_days"]) == len(s["supported_path"]) == 3 * twin["window"] + 1
    assert not kinds["tutoring"]["suppressed"], "the demo's tutoring has enough students"
    csv = client.get("/api/v1/efficacy/supports.csv")
    assert csv.status_code == 200 and "tutoring" in csv.text


def test_content_efficacy_ranks_items_and_flags_some(app: FastAPI) -> None:
    client = browser_client(app, "principal")
    twin = api_client(app, "principal").get("/api/v1/efficacy/content").json()
    assert twin["items_rated"] > 20 and twin["attempts"] > 1000
    gains = [r["gain"] for r in twin["items"]]
    assert gains == sorted(gains, reverse=True)
    assert all(r["uses"] >= twin["min_uses"] for r in twin["items"])
    page = client.get("/efficacy/content")
    assert page.status_code == 200 and "<svg" in page.text
    assert twin["items"][0]["key"] in page.text
    csv = client.get("/api/v1/efficacy/content.csv")
    assert (
        csv.status_code == 200
        and csv.text.count("\r\n") == len(twin["items"]) + len(twin["hints"]) + 1
    )


def test_only_leaders_see_evidence(app: FastAPI) -> None:
    for username in ("teacher", "student01", "guardian01"):
        client = api_client(app, username)
        for url in ("/api/v1/experiments", "/api/v1/efficacy/supports",
                    "/api/v1/efficacy/content"):  # fmt: skip
            assert client.get(url).status_code == 403, (username, url)
    with transaction(engine_of(app)) as session:
        student = session.scalar(select(User.id).where(User.username == "student01"))
    assert api_client(app, "student01").post(
        "/api/v1/experiments", json=_definition(app, "sneaky")
    ).status_code in (403, 422)
    assert student is not None


def test_an_excluded_student_is_counted_and_leaves_the_arms(app: FastAPI) -> None:
    client = api_client(app, "principal")
    body = client.post("/api/v1/experiments", json=_definition(app, "web-exclude")).json()
    client.post(f"/api/v1/experiments/{body['id']}/launch")
    with transaction(engine_of(app)) as session:
        student = session.scalar(select(User.id).where(User.username == "student02"))
    after = client.post(
        f"/api/v1/experiments/{body['id']}/exclusions",
        json={"student_id": student, "reason": "consent"},
    ).json()
    assert after["excluded"] == {"consent": 1}
    assert after["students"] == body["students"] or after["students"] >= 80
    assert after["result"]["excluded"] == 1
