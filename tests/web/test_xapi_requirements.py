"""The xAPI 1.0.3 LRS requirements ADL's conformance list names, grouped and parametrized, over
real HTTP against a served Learnway (SQLite and PostgreSQL), each test naming the requirement
ids it checks; and the requirements table (``docs/xapi-requirements.md``), generated from ADL's
list and the ids the tests name, kept current by a test."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import web.test_xapi_conformance as conformance
from web.test_xapi_conformance import (
    ATTENDED,
    JSON,
    VOIDED,
    _attached,
    _multipart,
    statement,
    stored,
)
from web.xapi_requirements import DOC, render
from web.xapi_server import Lrs, covers

served_store = conformance.served_store  # the served store, one per module and backend
lrs = conformance.lrs

Spoil = Callable[[dict[str, Any]], dict[str, Any]]
AGENT = {"objectType": "Agent", "mbox": "mailto:someone@example.com"}


def _defined(**definition: Any) -> Spoil:
    return lambda s: {**s, "object": {**s["object"], "definition": definition}}


def _sub(**changes: Any) -> Spoil:
    def spoil(s: dict[str, Any]) -> dict[str, Any]:
        sub = {"objectType": "SubStatement", "actor": s["actor"], "verb": s["verb"],
               "object": s["object"], **changes}  # fmt: skip
        return {**s, "object": sub}

    return spoil


def _attachment(**changes: Any) -> Spoil:
    made = {"usageType": "http://adlnet.gov/expapi/attachments/certificate",
            "display": {"en-US": "a"}, "contentType": "text/plain", "length": 1,
            "sha2": "a" * 64, "fileUrl": "http://files.example.com/a.txt"}  # fmt: skip
    made.update(changes)
    return lambda s: {**s, "attachments": [{k: v for k, v in made.items() if v is not None}]}


def _without(*names: str) -> Spoil:
    return lambda s: {k: v for k, v in s.items() if k not in names}


def _choice(**definition: Any) -> Spoil:
    return _defined(type="http://adlnet.gov/expapi/activities/cmi.interaction", **definition)


_PARENT = {"id": "http://www.example.com/courses/1"}
_TWO = [{"objectType": "Agent", "account": {"homePage": "http://oauth.example.com", "name": n}}
        for n in ("app", "user")]  # fmt: skip

# (requirement, what is wrong): each is a statement the store refuses with 400, storing nothing
REFUSED: list[tuple[str, Spoil]] = [
    ("XAPI-00001", lambda s: {**s, "context": {}}),
    ("XAPI-00001", lambda s: {**s, "result": {"response": None}}),
    ("XAPI-00003", _without("actor")),
    ("XAPI-00004", _without("verb")),
    ("XAPI-00005", _without("object")),
    ("XAPI-00006", lambda s: {**s, "verb": ATTENDED}),
    ("XAPI-00007", lambda s: {**s, "actor": {"mbox": ""}}),
    ("XAPI-00010", lambda s: {**s, "color": "red"}),
    ("XAPI-00011", lambda s: {**s, "verb": {"id": "www.example.com/verbs/attended"}}),
    ("XAPI-00013", _defined(name={"a123456789": "x"})),
    ("XAPI-00022", lambda s: {**s, "timestamp": "2026-13-45T10:00:00Z"}),
    ("XAPI-00024", lambda s: {**s, "authority": {"objectType": "Activity",
                                                "id": "http://www.example.com/a"}}),
    ("XAPI-00025", lambda s: {**s, "attachments": {"usageType": "http://example.com/u"}}),
    ("XAPI-00027", lambda s: {**s, "id": "not-a-uuid"}),
    ("XAPI-00028", lambda s: {**s, "id": 12345}),
    ("XAPI-00029", lambda s: {**s, "id": "{" + str(uuid.uuid4()) + "}"}),
    ("XAPI-00030", lambda s: {**s, "id": "AA97B177-9383-4934-8543-0F91A7A028368"}),
    ("XAPI-00031", lambda s: {**s, "actor": {**AGENT, "objectType": "Person"}}),
    ("XAPI-00032", lambda s: {**s, "actor": {**AGENT, "objectType": 5}}),
    ("XAPI-00033", lambda s: {**s, "actor": {**AGENT, "name": 5}}),
    ("XAPI-00034", lambda s: {**s, "actor": {"objectType": "Agent", "name": "nobody"}}),
    ("XAPI-00034", lambda s: {**s, "actor": {"mbox": "mailto:a@example.com",
                                            "openid": "http://a.example.com"}}),
    ("XAPI-00035", lambda s: {**s, "actor": {**AGENT, "member": [AGENT]}}),
    ("XAPI-00036", lambda s: {**s, "actor": {"objectType": "Group", "member": AGENT}}),
    ("XAPI-00036", lambda s: {**s, "actor": {"objectType": "Group", "member": [
        {"objectType": "Group", "mbox": "mailto:g@example.com"}]}}),
    ("XAPI-00037", lambda s: {**s, "actor": {"objectType": "Group"}}),
    ("XAPI-00037", lambda s: {**s, "actor": {"objectType": "Group", "mbox": "mailto:g@example.com",
                                            "openid": "http://g.example.com"}}),
    ("XAPI-00038", lambda s: {**s, "actor": {"mbox": "someone@example.com"}}),
    ("XAPI-00039", lambda s: {**s, "actor": {"mbox_sha1sum": "xyz"}}),
    ("XAPI-00040", lambda s: {**s, "actor": {"openid": "not a uri"}}),
    ("XAPI-00041", lambda s: {**s, "actor": {"account": "someone"}}),
    ("XAPI-00042", lambda s: {**s, "actor": {"account": {"name": "a"}}}),
    ("XAPI-00042", lambda s: {**s, "actor": {"account": {"homePage": "no-scheme", "name": "a"}}}),
    ("XAPI-00043", lambda s: {**s, "actor": {"account": {"homePage": "http://a.example.com"}}}),
    ("XAPI-00043", lambda s: {**s, "actor": {"account": {"homePage": "http://a.example.com",
                                                        "name": 5}}}),
    ("XAPI-00044", lambda s: {**s, "verb": {"display": {"en-US": "attended"}}}),
    ("XAPI-00045", lambda s: {**s, "verb": {"id": ATTENDED, "display": "attended"}}),
    ("XAPI-00046", lambda s: {**s, "object": {**s["object"], "objectType": "Thing"}}),
    ("XAPI-00047", lambda s: {**s, "object": {"objectType": "Activity"}}),
    ("XAPI-00047", lambda s: {**s, "object": {"objectType": "Activity", "id": "meeting"}}),
    ("XAPI-00048", lambda s: {**s, "object": {**s["object"], "definition": "a meeting"}}),
    ("XAPI-00049", _choice(interactionType="essay")),
    ("XAPI-00050", _choice(interactionType="choice", correctResponsesPattern="a",
                           choices=[{"id": "a"}])),
    ("XAPI-00051", _choice(interactionType="performance", steps="x")),
    ("XAPI-00052", _choice(interactionType="matching", source=[{"id": "a"}], target="x")),
    ("XAPI-00053", _choice(interactionType="matching", source="x", target=[{"id": "a"}])),
    ("XAPI-00054", _choice(interactionType="likert", scale="x")),
    ("XAPI-00055", _choice(interactionType="choice", choices="x")),
    ("XAPI-00056", _defined(name="a meeting")),
    ("XAPI-00057", _defined(extensions="x")),
    ("XAPI-00058", _choice(interactionType="choice", choices=[{"id": "a"}, {"id": "a"}])),
    ("XAPI-00058", _choice(interactionType="choice", choices=[{"description": {"en": "a"}}])),
    ("XAPI-00058", _choice(interactionType="choice", choices=[{"id": 5}])),
    ("XAPI-00059", _defined(description="a meeting")),
    ("XAPI-00060", _defined(type="not an iri")),
    ("XAPI-00061", _defined(moreInfo="not an irl")),
    ("XAPI-00062", _choice(interactionType="choice", choices=[{"id": "a", "description": "x"}])),
    ("XAPI-00063", _choice(interactionType="choice", choices=["a"])),
    ("XAPI-00064", _defined(correctResponsesPattern=["a"])),
    ("XAPI-00065", lambda s: {**s, "object": {"mbox": "mailto:b@example.com"}}),
    ("XAPI-00066", _sub(actor={"name": "nobody"})),
    ("XAPI-00067", _sub(authority=AGENT)),
    ("XAPI-00068", _sub(version="1.0.0")),
    ("XAPI-00069", _sub(stored="2026-01-01T00:00:00Z")),
    ("XAPI-00070", _sub(id=str(uuid.uuid4()))),
    ("XAPI-00071", _sub(object={"objectType": "SubStatement", "actor": AGENT,
                                "verb": {"id": ATTENDED}, "object": _PARENT})),
    ("XAPI-00072", lambda s: {**s, "object": {"objectType": "StatementRef", "id": "x"}}),
    ("XAPI-00072", lambda s: {**s, "object": {"objectType": "StatementRef"}}),
    ("XAPI-00073", lambda s: {**s, "object": {"id": str(uuid.uuid4())}}),
    ("XAPI-00074", lambda s: {**s, "result": {"success": "yes"}}),
    ("XAPI-00075", lambda s: {**s, "result": {"completion": "yes"}}),
    ("XAPI-00076", lambda s: {**s, "result": {"response": 5}}),
    ("XAPI-00077", lambda s: {**s, "result": {"duration": "1 hour"}}),
    ("XAPI-00078", lambda s: {**s, "result": {"extensions": "x"}}),
    ("XAPI-00079", lambda s: {**s, "result": {"score": 12345}}),
    ("XAPI-00080", lambda s: {**s, "result": {"score": {"max": "100"}}}),
    ("XAPI-00081", lambda s: {**s, "result": {"score": {"min": 0.68, "max": 0.67}}}),
    ("XAPI-00082", lambda s: {**s, "result": {"score": {"raw": 11, "min": 0, "max": 10}}}),
    ("XAPI-00083", lambda s: {**s, "result": {"score": {"scaled": 2}}}),
    ("XAPI-00084", lambda s: {**s, "object": AGENT, "context": {"revision": "1"}}),
    ("XAPI-00085", lambda s: {**s, "object": AGENT, "context": {"platform": "x"}}),
    ("XAPI-00086", lambda s: {**s, "context": {"contextActivities": "x"}}),
    ("XAPI-00087", lambda s: {**s, "context": {"registration": "r1"}}),
    ("XAPI-00087", lambda s: {**s, "context": {"instructor": {"name": "nobody"}}}),
    ("XAPI-00088", lambda s: {**s, "context": {"team": AGENT}}),
    ("XAPI-00089", lambda s: {**s, "context": {"revision": 5}}),
    ("XAPI-00090", lambda s: {**s, "context": {"platform": 5}}),
    ("XAPI-00091", lambda s: {**s, "context": {"language": "not a tag"}}),
    ("XAPI-00092", lambda s: {**s, "context": {"statement": _PARENT}}),
    ("XAPI-00093", lambda s: {**s, "context": {"contextActivities": {"sibling": [_PARENT]}}}),
    ("XAPI-00094", lambda s: {**s, "context": {"contextActivities": {"parent": [AGENT]}}}),
    ("XAPI-00095", lambda s: {**s, "context": {"contextActivities": {}}}),
    ("XAPI-00098", lambda s: {**s, "authority": {"objectType": "Group", "member": _TWO[:1]}}),
    ("XAPI-00100", lambda s: {**s, "authority": {"objectType": "Group",
                                                "member": [*_TWO, AGENT]}}),
    ("XAPI-00101", lambda s: {**s, "version": "2.0.0"}),
    ("XAPI-00102", _attachment(length=None)),
    ("XAPI-00102", _attachment(length="1")),
    ("XAPI-00103", _attachment(sha2=None)),
    ("XAPI-00103", _attachment(sha2=5)),
    ("XAPI-00104", _attachment(fileUrl="not an irl")),
    ("XAPI-00105", _attachment(contentType=None)),
    ("XAPI-00105", _attachment(contentType="not a type")),
    ("XAPI-00106", _attachment(display=None)),
    ("XAPI-00106", _attachment(display="a")),
    ("XAPI-00107", _attachment(usageType=None)),
    ("XAPI-00107", _attachment(usageType="not an iri")),
    ("XAPI-00118", _defined(extensions={"color": "red"})),
    ("XAPI-00120", _defined(extensions=["http://example.com/ext", 1])),
    ("XAPI-00121", lambda s: {**s, "verb": {"id": ATTENDED, "display": {"not a tag": "x"}}}),
    ("XAPI-00123", lambda s: {**s, "timestamp": "yesterday"}),
    ("XAPI-00124", lambda s: {**s, "result": {"duration": "P0001-00-00T01:00:00"}}),
    ("XAPI-00124", lambda s: {**s, "result": {"duration": "PT"}}),
]  # fmt: skip


@covers(*dict.fromkeys(requirement for requirement, _ in REFUSED))
@pytest.mark.parametrize(
    ("requirement", "spoil"), REFUSED, ids=[f"{r}-{i}" for i, (r, _) in enumerate(REFUSED)]
)
def test_statements_that_break_a_rule_are_400_and_not_stored(
    lrs: Lrs, requirement: str, spoil: Spoil
) -> None:
    made = spoil(statement())
    response = lrs.post(made)
    assert response.status_code == 400, (requirement, response.text)
    assert response.json()["error"]
    ident = made.get("id")
    if isinstance(ident, str) and len(ident) == 36:
        assert lrs.get(statementId=ident).status_code == 404


@covers("XAPI-00021")
def test_a_duplicate_key_is_400(lrs: Lrs) -> None:
    made = statement()
    text = json.dumps(made)[:-1] + ', "verb": {"id": "http://adlnet.gov/expapi/verbs/failed"}}'
    response = lrs.request("POST", "statements", content=text, headers=JSON)
    assert response.status_code == 400, response.text
    assert lrs.get(statementId=made["id"]).status_code == 404


# --- what the store keeps ----------------------------------------------------------------------


@covers("XAPI-00002")
def test_numbers_keep_their_precision(lrs: Lrs) -> None:
    score = {"min": 0.12123434, "raw": 12.125, "max": 45.45, "scaled": 0.5}
    made = statement(result={"score": score})
    assert lrs.post(made).status_code == 200
    assert stored(lrs, made["id"])["result"]["score"] == score


@covers("XAPI-00015")
def test_strings_travel_as_utf_8(lrs: Lrs) -> None:
    made = statement()
    made["object"]["definition"]["name"] = {"ja-JP": "会議", "de-DE": "Besprechung über Ähren"}
    body = json.dumps(made, ensure_ascii=False).encode()
    posted = lrs.request("POST", "statements", content=body, headers=JSON)
    assert posted.status_code == 200
    got = lrs.get(statementId=made["id"])
    assert "utf-8" in got.headers["Content-Type"].lower() or "json" in got.headers["Content-Type"]
    assert got.json()["object"]["definition"]["name"] == made["object"]["definition"]["name"]


@covers("XAPI-00023", "XAPI-00097", "XAPI-00099", "XAPI-00026")
def test_the_store_sets_id_stored_and_authority(lrs: Lrs) -> None:
    made = statement()
    del made["id"]
    before = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=5)
    (ident,) = lrs.post(made).json()
    got = stored(lrs, ident)
    assert uuid.UUID(ident) and got["id"] == ident
    moment = dt.datetime.fromisoformat(got["stored"].replace("Z", "+00:00"))
    assert before <= moment <= dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)
    assert got["authority"]["objectType"] in ("Agent", "Group")


@covers("XAPI-00096")
def test_context_activities_come_back_as_arrays(lrs: Lrs) -> None:
    made = statement(context={"contextActivities": {"parent": _PARENT, "grouping": [_PARENT]}})
    assert lrs.post(made).status_code == 200
    kinds = stored(lrs, made["id"])["context"]["contextActivities"]
    assert kinds["parent"] == [{"objectType": "Activity", **_PARENT}] or kinds["parent"] == [
        _PARENT
    ]
    assert isinstance(kinds["grouping"], list)


@covers("XAPI-00119")
@pytest.mark.parametrize("value", [None, "", {}])
def test_extension_values_may_be_empty(lrs: Lrs, value: Any) -> None:
    made = statement(result={"extensions": {"http://example.com/ext": value}})
    assert lrs.post(made).status_code == 200
    assert stored(lrs, made["id"])["result"]["extensions"] == {"http://example.com/ext": value}


@covers("XAPI-00122")
def test_timestamps_keep_milliseconds(lrs: Lrs) -> None:
    made = statement(timestamp="2026-11-26T10:00:00.123456Z")
    assert lrs.post(made).status_code == 200
    kept = stored(lrs, made["id"])["timestamp"]
    assert kept.startswith("2026-11-26T10:00:00.123")


@covers("XAPI-00332")
def test_a_statement_keeps_the_version_it_came_with(lrs: Lrs) -> None:
    made = statement(version="1.0.0")
    assert lrs.post(made).status_code == 200
    assert stored(lrs, made["id"])["version"] == "1.0.0"


# --- reading statements ------------------------------------------------------------------------


@covers("XAPI-00112", "XAPI-00149", "XAPI-00110", "XAPI-00113")
def test_a_query_that_matches_nothing_is_an_empty_result(lrs: Lrs) -> None:
    nobody = {"mbox": f"mailto:{uuid.uuid4().hex}@example.com"}
    response = lrs.get(agent=nobody)
    assert response.status_code == 200
    result = response.json()
    assert result["statements"] == [] and result.get("more", "") == ""


@covers("XAPI-00108", "XAPI-00109", "XAPI-00111", "XAPI-00114", "XAPI-00164")
def test_more_pages_through_the_same_query(lrs: Lrs) -> None:
    registration = str(uuid.uuid4())
    batch = [statement(context={"registration": registration}) for _ in range(5)]
    assert lrs.post(batch).status_code == 200
    lrs.post(statement())  # another statement, not part of the query
    seen: list[str] = []
    page = lrs.get(registration=registration, limit=2).json()
    pages = 1
    while True:
        assert set(page) <= {"statements", "more"} and isinstance(page["statements"], list)
        assert all(s["context"]["registration"] == registration for s in page["statements"])
        seen += [s["id"] for s in page["statements"]]
        if not page.get("more"):
            break
        assert page["more"].startswith("/xapi/statements")
        more = lrs.http.get(lrs.base.removesuffix("/xapi") + page["more"],
                            headers=lrs.headers, auth=lrs.auth)  # fmt: skip
        assert more.status_code == 200
        page, pages = more.json(), pages + 1
    assert sorted(seen) == sorted(s["id"] for s in batch) and pages == 3


@covers("XAPI-00152", "XAPI-00165")
def test_consistent_through_is_not_before_any_statement_returned(lrs: Lrs) -> None:
    lrs.post(statement())
    response = lrs.get(limit=10)
    assert response.headers["Content-Type"].startswith("application/json")
    through = dt.datetime.fromisoformat(
        response.headers["X-Experience-API-Consistent-Through"].replace("Z", "+00:00")
    )
    for found in response.json()["statements"]:
        assert dt.datetime.fromisoformat(found["stored"].replace("Z", "+00:00")) <= through


@covers("XAPI-00162", "XAPI-00163")
def test_a_query_returns_what_targets_a_voided_statement_but_not_it(lrs: Lrs) -> None:
    registration = str(uuid.uuid4())
    target = statement(context={"registration": registration})
    lrs.post(target)
    voiding = statement(verb={"id": VOIDED}, object={"objectType": "StatementRef",
                                                     "id": target["id"]})  # fmt: skip
    assert lrs.post(voiding).status_code == 200
    found = [s["id"] for s in lrs.get(verb=VOIDED, limit=0).json()["statements"]]
    assert voiding["id"] in found and target["id"] not in found
    listed = [s["id"] for s in lrs.get(registration=registration).json()["statements"]]
    assert target["id"] not in listed
    assert lrs.get(voidedStatementId=target["id"]).json()["id"] == target["id"]


@covers("XAPI-00158", "XAPI-00168", "XAPI-00170", "XAPI-00171")
def test_format_exact_is_the_default_and_ids_keeps_identifiers(lrs: Lrs) -> None:
    made = statement()
    lrs.post(made)
    plain = lrs.get(statementId=made["id"]).json()
    exact = lrs.get(statementId=made["id"], format="exact").json()
    assert plain == exact and exact["actor"] == made["actor"]
    assert exact["object"]["definition"] == made["object"]["definition"]
    ids = lrs.get(statementId=made["id"], format="ids").json()
    assert ids["actor"] == {"objectType": "Agent", "mbox": made["actor"]["mbox"]}
    assert ids["object"] == {"objectType": "Activity", "id": made["object"]["id"]}
    assert ids["verb"] == {"id": ATTENDED}


@covers("XAPI-00169")
def test_format_canonical_gives_one_language(lrs: Lrs) -> None:
    made = statement()
    lrs.post(made)
    params = {"statementId": made["id"], "format": "canonical"}
    got = lrs.request(
        "GET", "statements", params=params, headers={"Accept-Language": "en-US"}
    ).json()
    assert got["verb"]["display"] == {"en-US": "attended"}
    assert got["object"]["definition"]["name"] == {"en-US": "example meeting"}


@covers("XAPI-00161", "XAPI-00167")
def test_attachments_only_when_asked(lrs: Lrs) -> None:
    text = b"a certificate"
    made, _, sha2 = _attached(text)
    body, kind = _multipart([
        ({"Content-Type": "application/json"}, json.dumps(made).encode()),
        ({"Content-Type": "text/plain", "Content-Transfer-Encoding": "binary",
          "X-Experience-API-Hash": sha2}, text),
    ])  # fmt: skip
    assert lrs.request("POST", "statements", content=body, headers={"Content-Type": kind}
                       ).status_code == 200  # fmt: skip
    without = lrs.get(statementId=made["id"], attachments=False)
    assert without.headers["Content-Type"].startswith("application/json")
    assert text not in without.content
    with_them = lrs.get(statementId=made["id"], attachments=True)
    assert with_them.headers["Content-Type"].startswith("multipart/mixed")
    assert text in with_them.content


# --- requests --------------------------------------------------------------------------------


@covers("XAPI-00125", "XAPI-00126")
@pytest.mark.parametrize(
    ("resource", "params"),
    [
        ("statements", {}),
        ("about", {}),
        ("activities/state", {"activityId": "http://www.example.com/a", "agent": AGENT}),
        ("agents", {"agent": AGENT}),
    ],
)
def test_head_is_get_without_a_body(lrs: Lrs, resource: str, params: dict[str, Any]) -> None:
    get = lrs.request("GET", resource, params=params)
    head = lrs.request("HEAD", resource, params=params)
    assert head.status_code == get.status_code == 200 and head.content == b""
    assert head.headers["Content-Type"] == get.headers["Content-Type"]


@covers("XAPI-00127")
def test_a_statement_that_is_not_json_is_400(lrs: Lrs) -> None:
    made = statement()
    response = lrs.request("POST", "statements", content=json.dumps(made),
                           headers={"Content-Type": "text/plain"})  # fmt: skip
    assert response.status_code == 400
    assert lrs.get(statementId=made["id"]).status_code == 404


def _two_parts(made: dict[str, Any], sha2: str, text: bytes, **second: str) -> list[Any]:
    head = {"Content-Type": "text/plain", "Content-Transfer-Encoding": "binary",
            "X-Experience-API-Hash": sha2}  # fmt: skip
    head.update(second)
    return [({"Content-Type": "application/json"}, json.dumps(made).encode()),
            ({k: v for k, v in head.items() if v}, text)]  # fmt: skip


@covers("XAPI-00128", "XAPI-00129", "XAPI-00130", "XAPI-00131", "XAPI-00132", "XAPI-00133",
        "XAPI-00134", "XAPI-00135", "XAPI-00138")  # fmt: skip
@pytest.mark.parametrize(
    "spoil",
    ["no hash", "other hash", "first part not json", "no boundary", "stray part",
     "statements not first", "missing part", "not multipart", "not binary"],
)  # fmt: skip
def test_broken_multipart_requests_are_400(lrs: Lrs, spoil: str) -> None:
    text = b"a certificate"
    made, _, sha2 = _attached(text)
    parts = _two_parts(made, sha2, text)
    if spoil == "no hash":
        parts = _two_parts(made, sha2, text, **{"X-Experience-API-Hash": ""})
    elif spoil == "other hash":
        parts = _two_parts(made, sha2, text, **{"X-Experience-API-Hash": "b" * 64})
    elif spoil == "first part not json":
        parts[0] = ({"Content-Type": "text/plain"}, parts[0][1])
    elif spoil == "stray part":
        parts.append(({"Content-Type": "text/plain", "X-Experience-API-Hash": "c" * 64}, b"x"))
    elif spoil == "statements not first":
        parts.reverse()
    elif spoil == "not binary":
        parts = _two_parts(made, sha2, text, **{"Content-Transfer-Encoding": ""})
    elif spoil == "missing part":
        parts = parts[:1]
    body, kind = _multipart(parts)
    if spoil == "no boundary":
        kind = "multipart/mixed"
    elif spoil == "not multipart":
        kind = "application/octet-stream"
    response = lrs.request("POST", "statements", content=body, headers={"Content-Type": kind})
    assert response.status_code == 400, (spoil, response.text)
    assert lrs.get(statementId=made["id"]).status_code == 404


@covers("XAPI-00140", "XAPI-00230", "XAPI-00245", "XAPI-00252", "XAPI-00282", "XAPI-00311",
        "XAPI-00315", "XAPI-00139")  # fmt: skip
@pytest.mark.parametrize(
    ("resource", "params"),
    [
        ("statements", {}),
        ("activities/state", {"activityId": "http://www.example.com/a", "agent": AGENT}),
        ("activities/profile", {"activityId": "http://www.example.com/a"}),
        ("agents/profile", {"agent": AGENT}),
        ("activities", {"activityId": "http://www.example.com/a"}),
        ("agents", {"agent": AGENT}),
        ("about", {}),
    ],
)
def test_every_resource_is_served(lrs: Lrs, resource: str, params: dict[str, Any]) -> None:
    response = lrs.request("GET", resource, params=params)
    assert response.status_code in (200, 404), (resource, response.text)
    assert response.status_code == 200 or resource == "activities"


# --- documents -------------------------------------------------------------------------------

STATE = "activities/state"
ACTIVITY_PROFILE = "activities/profile"
AGENT_PROFILE = "agents/profile"


def _address(resource: str, **extra: Any) -> dict[str, Any]:
    tag = uuid.uuid4().hex
    activity = f"http://www.example.com/activities/{tag}"
    agent = {"objectType": "Agent", "mbox": f"mailto:{tag}@example.com"}
    addresses: dict[str, dict[str, Any]] = {
        STATE: {"activityId": activity, "agent": agent, "stateId": "bookmark"},
        ACTIVITY_PROFILE: {"activityId": activity, "profileId": "settings"},
        AGENT_PROFILE: {"agent": agent, "profileId": "settings"},
    }
    base = addresses[resource]
    return {**base, **extra}


_ID = {STATE: "stateId", ACTIVITY_PROFILE: "profileId", AGENT_PROFILE: "profileId"}

# (requirement, resource, method, the parameter left out)
MISSING = [
    *[(r, STATE, m, "activityId") for r, m in
      (("XAPI-00207", "DELETE"), ("XAPI-00208", "GET"), ("XAPI-00209", "POST"),
       ("XAPI-00210", "PUT"))],
    *[(r, STATE, m, "agent") for r, m in
      (("XAPI-00212", "DELETE"), ("XAPI-00213", "GET"), ("XAPI-00214", "POST"),
       ("XAPI-00215", "PUT"))],
    ("XAPI-00206", STATE, "PUT", "stateId"),
    ("XAPI-00211", STATE, "POST", "stateId"),
    *[(r, AGENT_PROFILE, m, "agent") for r, m in
      (("XAPI-00261", "GET"), ("XAPI-00262", "DELETE"), ("XAPI-00263", "POST"),
       ("XAPI-00264", "PUT"))],
    *[(r, AGENT_PROFILE, m, "profileId") for r, m in
      (("XAPI-00265", "DELETE"), ("XAPI-00266", "POST"), ("XAPI-00267", "PUT"))],
    *[(r, ACTIVITY_PROFILE, m, "activityId") for r, m in
      (("XAPI-00296", "GET"), ("XAPI-00297", "DELETE"), ("XAPI-00298", "POST"),
       ("XAPI-00299", "PUT"))],
    *[(r, ACTIVITY_PROFILE, m, "profileId") for r, m in
      (("XAPI-00300", "DELETE"), ("XAPI-00301", "POST"), ("XAPI-00302", "PUT"))],
]  # fmt: skip


@covers(*[m[0] for m in MISSING])
@pytest.mark.parametrize(("requirement", "resource", "method", "missing"), MISSING,
                         ids=[m[0] for m in MISSING])  # fmt: skip
def test_a_document_request_without_a_required_parameter_is_400(
    lrs: Lrs, requirement: str, resource: str, method: str, missing: str
) -> None:
    params = {k: v for k, v in _address(resource).items() if k != missing}
    body = '{"a": 1}' if method in ("PUT", "POST") else None
    response = lrs.request(method, resource, params=params, content=body,
                           headers=JSON if body else None)  # fmt: skip
    assert response.status_code == 400, (requirement, response.text)


# (requirement, resource, method, the parameter, a value of the wrong form)
MALFORMED = [
    *[(r, STATE, m, "agent", "not json") for r, m in
      (("XAPI-00196", "DELETE"), ("XAPI-00197", "GET"), ("XAPI-00198", "POST"),
       ("XAPI-00199", "PUT"))],
    *[(r, STATE, m, "registration", "not-a-uuid") for r, m in
      (("XAPI-00200", "DELETE"), ("XAPI-00201", "GET"), ("XAPI-00202", "POST"),
       ("XAPI-00203", "PUT"))],
    ("XAPI-00204", STATE, "GET", "since", "yesterday"),
    ("XAPI-00205", STATE, "DELETE", "since", "yesterday"),
    *[(r, AGENT_PROFILE, m, "agent", {"name": "nobody"}) for r, m in
      (("XAPI-00255", "DELETE"), ("XAPI-00256", "POST"), ("XAPI-00257", "PUT"),
       ("XAPI-00258", "GET"))],
    ("XAPI-00260", AGENT_PROFILE, "GET", "since", "yesterday"),
    ("XAPI-00295", ACTIVITY_PROFILE, "GET", "since", "yesterday"),
    ("XAPI-00304", ACTIVITY_PROFILE, "GET", "agent", AGENT),
    ("XAPI-00012", STATE, "GET", "activityId", "not an iri"),
]  # fmt: skip


@covers(*dict.fromkeys(m[0] for m in MALFORMED))
@pytest.mark.parametrize(("requirement", "resource", "method", "name", "value"), MALFORMED,
                         ids=[m[0] for m in MALFORMED])  # fmt: skip
def test_a_document_request_with_a_malformed_parameter_is_400(
    lrs: Lrs, requirement: str, resource: str, method: str, name: str, value: Any
) -> None:
    params = _address(resource, **{name: value})
    if method == "GET" and name in ("since", "agent") and resource != STATE:
        params.pop(_ID[resource])
    if name == "since":
        params.pop(_ID[resource], None)
    body = '{"a": 1}' if method in ("PUT", "POST") else None
    response = lrs.request(method, resource, params=params, content=body,
                           headers=JSON if body else None)  # fmt: skip
    assert response.status_code == 400, (requirement, response.text)


# ADL's tests of "not type String" send these in place of a string (serialized as a query)
NOT_STRINGS = [1, True, {"key": "value"}, "undefined"]
NOT_A_STRING = [
    *[(r, STATE, m, "activityId") for r, m in
      (("XAPI-00224", "DELETE"), ("XAPI-00225", "GET"), ("XAPI-00226", "POST"),
       ("XAPI-00228", "PUT"))],
    *[(r, AGENT_PROFILE, m, "agent") for r, m in (("XAPI-00276", "POST"), ("XAPI-00277", "PUT"))],
    *[(r, ACTIVITY_PROFILE, m, "activityId") for r, m in
      (("XAPI-00305", "DELETE"), ("XAPI-00306", "POST"), ("XAPI-00307", "PUT"))],
]  # fmt: skip


@covers(*[n[0] for n in NOT_A_STRING])
@pytest.mark.parametrize(("requirement", "resource", "method", "name"), NOT_A_STRING,
                         ids=[n[0] for n in NOT_A_STRING])  # fmt: skip
def test_a_document_parameter_that_is_not_a_string_is_400(
    lrs: Lrs, requirement: str, resource: str, method: str, name: str
) -> None:
    body = '{"a": 1}' if method in ("PUT", "POST") else None
    for value in NOT_STRINGS:
        params = _address(resource, **{name: value})
        response = lrs.request(method, resource, params=params, content=body,
                               headers=JSON if body else None)  # fmt: skip
        assert response.status_code == 400, (requirement, value, response.text)


LIFECYCLE = {
    STATE: ("XAPI-00187", "XAPI-00188", "XAPI-00189", "XAPI-00190", "XAPI-00191", "XAPI-00192",
            "XAPI-00216", "XAPI-00217", "XAPI-00231", "XAPI-00233", "XAPI-00234"),
    AGENT_PROFILE: ("XAPI-00259", "XAPI-00269", "XAPI-00271", "XAPI-00272", "XAPI-00273",
                    "XAPI-00274", "XAPI-00279", "XAPI-00280", "XAPI-00283"),
    ACTIVITY_PROFILE: ("XAPI-00285", "XAPI-00286", "XAPI-00287", "XAPI-00288", "XAPI-00290",
                       "XAPI-00291", "XAPI-00292", "XAPI-00293", "XAPI-00308", "XAPI-00310",
                       "XAPI-00312"),
}  # fmt: skip


@covers(*[r for rs in LIFECYCLE.values() for r in rs], "XAPI-00183", "XAPI-00184",
        "XAPI-00185", "XAPI-00186")  # fmt: skip
@pytest.mark.parametrize("resource", list(LIFECYCLE))
def test_a_document_is_stored_merged_read_and_deleted(lrs: Lrs, resource: str) -> None:
    params = _address(resource)
    post = lrs.request("POST", resource, params=params, json_body={"a": {"x": 1}, "b": 1})
    assert post.status_code == 204 and post.content == b""  # a new document: stored as sent
    merged = lrs.request("POST", resource, params=params, json_body={"a": {"y": 2}, "c": 3})
    assert merged.status_code == 204
    got = lrs.request("GET", resource, params=params)
    assert got.status_code == 200 and got.json() == {"a": {"y": 2}, "b": 1, "c": 3}
    put = lrs.request("PUT", resource, params=params, json_body={"d": 4},
                      headers={"If-Match": got.headers["ETag"]})  # fmt: skip
    assert put.status_code == 204
    assert lrs.request("GET", resource, params=params).json() == {"d": 4}
    deleted = lrs.request("DELETE", resource, params=params)
    assert deleted.status_code == 204
    assert lrs.request("GET", resource, params=params).status_code == 404


SINCE = {
    STATE: ("XAPI-00141", "XAPI-00193", "XAPI-00195", "XAPI-00221", "XAPI-00222",
            "XAPI-00194", "XAPI-00223", "XAPI-00218", "XAPI-00219", "XAPI-00220", "XAPI-00227"),
    AGENT_PROFILE: ("XAPI-00268", "XAPI-00270", "XAPI-00275"),
    ACTIVITY_PROFILE: ("XAPI-00289", "XAPI-00294", "XAPI-00303"),
}  # fmt: skip


@covers(*[r for rs in SINCE.values() for r in rs])
@pytest.mark.parametrize("resource", list(SINCE))
def test_ids_are_listed_since_a_moment(lrs: Lrs, resource: str) -> None:
    extra = {"registration": str(uuid.uuid4())} if resource == STATE else {}
    params = _address(resource, **extra)
    ident = _ID[resource]
    lrs.request("POST", resource, params=params, json_body={"a": 1})
    listing = {k: v for k, v in params.items() if k != ident}
    first = lrs.request("GET", resource, params=listing)
    assert first.status_code == 200 and first.json() == [params[ident]]
    import time

    time.sleep(0.05)
    moment = dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")
    time.sleep(0.05)
    lrs.request("POST", resource, params={**params, ident: "later"}, json_body={"b": 2})
    since = lrs.request("GET", resource, params={**listing, "since": moment})
    assert since.status_code == 200 and since.json() == ["later"]
    if resource == STATE:
        gone = lrs.request("DELETE", resource, params={**listing, "since": moment})
        assert gone.status_code == 204
        assert lrs.request("GET", resource, params=listing).json() == [params[ident]]
        assert lrs.request("DELETE", resource, params=listing).status_code == 204
        assert lrs.request("GET", resource, params=listing).json() == []


# (requirement, resource): a POST onto a stored document that cannot merge
CANNOT_MERGE = [
    ("XAPI-00229", STATE, "json"), ("XAPI-00232", STATE, "text"),
    ("XAPI-00281", AGENT_PROFILE, "json"), ("XAPI-00278", AGENT_PROFILE, "text"),
    ("XAPI-00313", ACTIVITY_PROFILE, "json"), ("XAPI-00309", ACTIVITY_PROFILE, "text"),
]  # fmt: skip


@covers(*[c[0] for c in CANNOT_MERGE])
@pytest.mark.parametrize(("requirement", "resource", "kind"), CANNOT_MERGE,
                         ids=[c[0] for c in CANNOT_MERGE])  # fmt: skip
def test_a_post_that_cannot_merge_is_400_and_changes_nothing(
    lrs: Lrs, requirement: str, resource: str, kind: str
) -> None:
    params = _address(resource)
    if kind == "json":  # the stored document is JSON, but not an object
        first = lrs.request("PUT", resource, params=params, content="[1, 2]", headers=JSON)
    else:
        first = lrs.request("PUT", resource, params=params, content="plain words",
                            headers={"Content-Type": "text/plain"})  # fmt: skip
    assert first.status_code == 204
    before = lrs.request("GET", resource, params=params).content
    response = lrs.request("POST", resource, params=params, json_body={"a": 1})
    assert response.status_code == 400, (requirement, response.text)
    assert lrs.request("GET", resource, params=params).content == before


@covers("XAPI-00235", "XAPI-00284", "XAPI-00314", "XAPI-00182")
@pytest.mark.parametrize("resource", [STATE, AGENT_PROFILE, ACTIVITY_PROFILE])
def test_a_post_of_invalid_json_is_400_and_changes_nothing(lrs: Lrs, resource: str) -> None:
    params = _address(resource)
    lrs.request("POST", resource, params=params, json_body={"a": 1})
    bad = lrs.request("POST", resource, params=params, content='{"b": ', headers=JSON)
    assert bad.status_code == 400
    assert lrs.request("GET", resource, params=params).json() == {"a": 1}


# --- activities, about, credentials --------------------------------------------------------


@covers("XAPI-00250", "XAPI-00251", "XAPI-00253", "XAPI-00254")
def test_an_activity_holds_what_every_statement_said_of_it(lrs: Lrs) -> None:
    first = statement()
    activity = first["object"]["id"]
    second = statement(object={"id": activity, "definition": {"name": {"fr-FR": "réunion"}}})
    assert lrs.post(first).status_code == 200 and lrs.post(second).status_code == 200
    got = lrs.request("GET", "activities", params={"activityId": activity})
    assert got.status_code == 200
    name = got.json()["definition"]["name"]
    assert name == {"en-GB": "example meeting", "en-US": "example meeting", "fr-FR": "réunion"}
    assert lrs.request("GET", "activities").status_code == 400


@covers("XAPI-00320", "XAPI-00321")
def test_about_needs_no_version_and_the_others_do(lrs: Lrs) -> None:
    about = lrs.request("GET", "about", auth=False, version=False)
    assert about.status_code == 200
    assert isinstance(about.json().get("extensions", {}), dict)
    for resource in ("statements", "activities/state", "agents", "activities"):
        assert lrs.request("GET", resource, version=False).status_code == 400


@covers("XAPI-00334", "XAPI-00335", "XAPI-00323")
def test_credentials_and_the_error_codes(lrs: Lrs) -> None:
    assert lrs.request("POST", "statements", json_body=statement(), auth=False).status_code == 401
    wrong = lrs.http.post(lrs.base + "/statements", json=statement(),
                          headers=lrs.headers, auth=(lrs.auth[0], "wrong"))  # fmt: skip
    assert wrong.status_code == 401
    assert lrs.post(statement()).status_code == 200  # HTTP Basic
    codes = {lrs.post(spoil(statement())).status_code for _, spoil in REFUSED[:20]} | {
        lrs.request("POST", "statements", content="{", headers=JSON).status_code
    }
    assert codes == {400}


# --- signatures and size --------------------------------------------------------------------


def _signed(made: dict[str, Any], token: bytes) -> tuple[bytes, str]:
    sha2 = hashlib.sha256(token).hexdigest()
    made["attachments"] = [{
        "usageType": "http://adlnet.gov/expapi/attachments/signature",
        "display": {"en-US": "signature"}, "contentType": "application/octet-stream",
        "length": len(token), "sha2": sha2,
    }]  # fmt: skip
    return _multipart([
        ({"Content-Type": "application/json"}, json.dumps(made).encode()),
        ({"Content-Type": "application/octet-stream", "Content-Transfer-Encoding": "binary",
          "X-Experience-API-Hash": sha2}, token),
    ])  # fmt: skip


@covers("XAPI-00115", "XAPI-00116", "XAPI-00117")
@pytest.mark.parametrize("signature", ["RS256", "RS512", "HS256", "other payload", "not a JWS"])
def test_signed_statements(lrs: Lrs, signature: str) -> None:
    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    made = statement()
    payload = statement() if signature == "other payload" else made
    if signature == "not a JWS":
        token = b"not-a-jws"
    elif signature == "HS256":
        token = jwt.encode(
            payload, "a shared secret of thirty-two bytes", algorithm="HS256"
        ).encode()
    else:
        algorithm = signature if signature.startswith("RS") else "RS256"
        token = jwt.encode(payload, key, algorithm=algorithm).encode()
    body, kind = _signed(made, token)
    response = lrs.request("POST", "statements", content=body, headers={"Content-Type": kind})
    if signature.startswith("RS"):
        assert response.status_code == 200, response.text
        assert stored(lrs, made["id"])["attachments"][0]["usageType"].endswith("signature")
    else:
        assert response.status_code == 400, (signature, response.text)
        assert lrs.get(statementId=made["id"]).status_code == 404


@covers("XAPI-00328")
def test_a_request_over_the_size_limit_is_413(lrs: Lrs) -> None:
    made = statement(result={"response": "x" * (16 * 2**20)})
    response = lrs.post(made)
    assert response.status_code == 413, response.text
    assert lrs.get(statementId=made["id"]).status_code == 404
    assert lrs.post(statement(result={"response": "x" * 2**20})).status_code == 200


# --- the table -------------------------------------------------------------------------------


def test_the_requirements_table_is_current() -> None:
    """``docs/xapi-requirements.md`` is written by ``python tests/web/xapi_requirements.py``
    from ADL's list and the ids the tests name; it must be what that writes now."""
    assert Path(DOC).read_text() == render(), "run: .venv/bin/python tests/web/xapi_requirements.py"
