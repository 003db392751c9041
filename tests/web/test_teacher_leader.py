"""Teacher views (heatmap, needs, groups, assignments, pacing) and leader reports with
small-cell suppression, through the API."""

from __future__ import annotations

from fastapi import FastAPI
from sqlalchemy import select

from learnway.analytics import MIN_CELL
from learnway.store import transaction
from learnway.store._schema import Section
from learnway.web._models import Assignment
from web.support import api_client, counts, engine_of, user_id


def _section(app: FastAPI) -> int:
    with transaction(engine_of(app)) as session:
        found = session.scalar(select(Section.id).where(Section.sourced_id == "demo-section-1"))
    assert found is not None
    return found


def test_heatmap_sorts_and_filters_by_unit(app: FastAPI) -> None:
    client = api_client(app, "teacher")
    section = _section(app)
    full = client.get(f"/api/v1/sections/{section}/heatmap").json()
    assert len(full["rows"]) == 30 and len(full["columns"]) == 201
    assert all(len(r["p"]) == 201 == len(r["evidence"]) for r in full["rows"])
    assert any(v is not None for r in full["rows"] for v in r["p"])
    unit = full["units"][3]["href"]
    part = client.get(
        f"/api/v1/sections/{section}/heatmap", params={"unit": unit, "sort": "mastered"}
    ).json()
    assert 0 < len(part["columns"]) < 201 and {c["unit"] for c in part["columns"]} == {unit}
    mastered = [r["mastered"] for r in part["rows"]]
    assert mastered == sorted(mastered, reverse=True)
    bad = client.get(f"/api/v1/sections/{section}/heatmap", params={"unit": "nope"})
    assert bad.status_code == 422 and "unit" in bad.json()["detail"]


def test_needs_have_evidence_and_pacing_has_forecasts(app: FastAPI) -> None:
    client = api_client(app, "teacher")
    section = _section(app)
    needs = client.get(f"/api/v1/sections/{section}/needs").json()["needs"]
    assert needs and all(n["evidence"] for n in needs)
    assert {n["kind"] for n in needs} <= {"stuck", "off_pace", "inactive", "support"}
    pacing = client.get(f"/api/v1/sections/{section}/pacing").json()
    assert len(pacing["students"]) == 30 and pacing["deadline"]


def test_groups_edit_and_assign(app: FastAPI) -> None:
    engine = engine_of(app)
    client = api_client(app, "teacher")
    section = _section(app)
    groups = client.get(f"/api/v1/sections/{section}/groups").json()
    suggested = groups["suggested"]
    assert suggested and all(g["reason"] for g in suggested)
    # a suggested group with a shared competency, else three students and a competency by hand
    pick = next((g for g in suggested if g["competency"]), None)
    if pick is not None:
        ids, code = [s["id"] for s in pick["students"]], pick["competency"]
    else:
        heat = client.get(f"/api/v1/sections/{section}/heatmap").json()
        ids, code = [r["student"]["id"] for r in heat["rows"][:3]], heat["columns"][5]["code"]
    made = client.post(
        f"/api/v1/sections/{section}/groups",
        json={"name": "Tuesday table", "competency": code, "student_ids": ids},
    )
    assert made.status_code == 201
    group = made.json()
    renamed = client.patch(
        f"/api/v1/groups/{group['id']}", json={"name": "Wednesday", "student_ids": ids[:2]}
    ).json()
    assert renamed["name"] == "Wednesday" and len(renamed["students"]) == 2
    assigned = client.post(
        "/api/v1/assignments", json={"group_id": group["id"], "competency": code}
    )
    assert assigned.status_code == 201 and assigned.json()["students"] == 2
    student = ids[0]
    recs = client.get(f"/api/v1/students/{student}/recommendations").json()
    assert recs["assigned"][0]["competency"] == code
    # a student of another class cannot join; nothing is written
    before = counts(engine, Assignment)
    outsider = user_id(engine, "student90")
    refused = client.patch(f"/api/v1/groups/{group['id']}", json={"student_ids": [outsider]})
    assert refused.status_code == 422 and str(outsider) in refused.json()["detail"]
    nothing = client.post("/api/v1/assignments", json={"group_id": group["id"]})
    assert nothing.status_code == 422
    assert counts(engine, Assignment) == before
    assert client.delete(f"/api/v1/groups/{group['id']}").status_code == 204


def test_leader_reports_suppress_small_cells(app: FastAPI) -> None:
    client = api_client(app, "principal")
    for by in ("school", "section", "course", "sex", "race", "ethnicity"):
        report = client.get("/api/v1/reports/mastery", params={"by": by}).json()
        for cell in report["cells"]:
            if cell["suppressed"]:
                assert cell["students"] is None and cell["mean_mastered"] is None
            else:
                assert cell["students"] >= MIN_CELL and cell["mean_mastered"] is not None
    race = client.get("/api/v1/reports/mastery", params={"by": "race"}).json()
    assert any(c["suppressed"] for c in race["cells"]), "the demo has small race groups"
    gaps = client.get("/api/v1/reports/gaps", params={"subgroup": "sex"}).json()
    assert len(gaps["points"]) == 4
    supports = client.get("/api/v1/reports/supports").json()
    assert supports["students"] == 90
    for cell in supports["coverage"]:
        assert cell["suppressed"] or cell["students"] >= MIN_CELL
    district = api_client(app, "district").get("/api/v1/reports/mastery?by=school").json()
    assert [c["group"] for c in district["cells"]] == ["Riverbend Middle School"]
