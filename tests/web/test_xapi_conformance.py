"""The learning record store against the xAPI 1.0.3 requirements, over real HTTP.

One ``learnway serve`` runs on 127.0.0.1 per backend (SQLite and PostgreSQL) for this module
(and one for ``test_xapi_requirements``), a process of its own as a district would run it;
every test is a tool calling it with plain HTTP and checks one requirement, named by its id in
ADL's conformance requirements (``XAPI-00nnn``) or, where ADL's list gives it no id, by the
section of the specification. ``test_requirements_are_named`` counts them.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from learnway.store import transaction
from learnway.store._schema import XapiStatement
from learnway.store.xapi import DEFAULT_SCOPES
from web.served import free_port, learnway_serve
from web.xapi_server import REQUIREMENTS, Lrs, covers, new_client

VOIDED = "http://adlnet.gov/expapi/verbs/voided"
ATTENDED = "http://adlnet.gov/expapi/verbs/attended"


@pytest.fixture(scope="module")
def served_store(
    request: pytest.FixtureRequest, empty_template: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Lrs, Engine, str]]:
    """``learnway serve`` in a process of its own on 127.0.0.1, on a database of its own."""
    engine: Engine = empty_template()
    postgres = request.getfixturevalue("postgres") if engine.dialect.name == "postgresql" else None
    key, secret = new_client(engine, "conformance", ("all",))
    port = free_port()
    with learnway_serve(engine, tmp_path_factory.mktemp("lrs"), port):
        base = f"http://127.0.0.1:{port}"
        yield Lrs(base, key, secret), engine, base
    engine.dispose()
    if postgres is not None:
        postgres.release(engine)


@pytest.fixture
def lrs(served_store: tuple[Lrs, Engine, str]) -> Lrs:
    return served_store[0]


def statement(**changes: Any) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:12]
    made: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "actor": {"objectType": "Agent", "name": "Ada", "mbox": f"mailto:{tag}@example.com"},
        "verb": {"id": ATTENDED, "display": {"en-GB": "attended", "en-US": "attended"}},
        "object": {
            "objectType": "Activity",
            "id": f"http://www.example.com/meetings/{tag}",
            "definition": {
                "name": {"en-GB": "example meeting", "en-US": "example meeting"},
                "description": {"en-GB": "a meeting", "en-US": "a meeting"},
            },
        },
    }
    made.update(changes)
    return made


def stored(lrs: Lrs, ident: str) -> dict[str, Any]:
    response = lrs.get(statementId=ident)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


# --- the statement resource ------------------------------------------------------------------


@covers("XAPI-00139", "XAPI-00147", "XAPI-00146")
def test_post_stores_and_returns_the_ids(lrs: Lrs) -> None:
    batch = [statement(), statement()]
    response = lrs.post(batch)
    assert response.status_code == 200
    assert response.json() == [s["id"] for s in batch]
    assert stored(lrs, batch[1]["id"])["verb"]["id"] == ATTENDED


@covers("XAPI-00146")
def test_post_assigns_an_id_to_a_statement_without_one(lrs: Lrs) -> None:
    made = statement()
    del made["id"]
    response = lrs.post(made)
    assert response.status_code == 200
    (ident,) = response.json()
    assert uuid.UUID(ident) and stored(lrs, ident)["id"] == ident


@covers("XAPI-00143", "XAPI-00144")
def test_put_with_a_statement_id_stores_it_and_answers_204(lrs: Lrs) -> None:
    made = statement()
    response = lrs.request("PUT", "statements", params={"statementId": made["id"]}, json_body=made)
    assert response.status_code == 204 and response.content == b""
    assert stored(lrs, made["id"])["object"] == made["object"]


@covers("XAPI-00145")
def test_put_without_a_statement_id_is_refused(lrs: Lrs) -> None:
    made = statement()
    assert lrs.request("PUT", "statements", json_body=made).status_code == 400
    assert lrs.get(statementId=made["id"]).status_code == 404


@covers("XAPI-00142")
def test_a_stored_statement_is_never_modified(lrs: Lrs) -> None:
    made = statement()
    assert lrs.post(made).status_code == 200
    changed = {**made, "verb": {"id": "http://adlnet.gov/expapi/verbs/failed"}}
    put = lrs.request("PUT", "statements", params={"statementId": made["id"]}, json_body=changed)
    assert put.status_code == 409
    assert lrs.post(changed).status_code == 409
    assert stored(lrs, made["id"])["verb"]["id"] == ATTENDED


@covers("Communication 2.1.1: the same statement again is no conflict")
def test_the_same_statement_twice_is_accepted_once(lrs: Lrs, served_store: Any) -> None:
    made = statement()
    assert lrs.post(made).status_code == 200
    put = lrs.request("PUT", "statements", params={"statementId": made["id"]}, json_body=made)
    assert put.status_code == 204
    assert lrs.post(made).json() == [made["id"]]
    with transaction(served_store[1]) as session:
        count = session.scalar(
            select(func.count()).select_from(XapiStatement).where(XapiStatement.id == made["id"])
        )
    assert count == 1


@covers("Communication 2.1.1: one statement sent at once by many is stored once")
def test_the_same_statement_sent_concurrently_is_stored_once(lrs: Lrs, served_store: Any) -> None:
    from concurrent.futures import ThreadPoolExecutor

    made = statement()
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda _: lrs.post(made).status_code, range(8)))
    assert codes == [200] * 8
    with transaction(served_store[1]) as session:
        count = session.scalar(
            select(func.count()).select_from(XapiStatement).where(XapiStatement.id == made["id"])
        )
    assert count == 1


@covers("XAPI-00326")
def test_a_batch_with_one_bad_statement_stores_nothing(lrs: Lrs) -> None:
    good, bad = statement(), statement()
    bad["verb"] = {"id": "should fail"}
    assert lrs.post([good, bad]).status_code == 400
    assert lrs.get(statementId=good["id"]).status_code == 404


@covers("XAPI-00159", "XAPI-00154")
def test_get_without_an_id_returns_a_statement_result(lrs: Lrs) -> None:
    lrs.post(statement())
    response = lrs.get()
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert isinstance(body["statements"], list) and "more" in body


@covers("XAPI-00156")
def test_get_by_statement_id(lrs: Lrs) -> None:
    made = statement()
    lrs.post(made)
    found = stored(lrs, made["id"])
    assert found["id"] == made["id"]
    assert found["actor"] == made["actor"] and found["object"] == made["object"]


@covers("Data 2.4.8 stored", "Data 2.4.9 authority", "Data 2.4.10 version")
def test_the_store_sets_stored_authority_and_version(lrs: Lrs) -> None:
    made = statement(authority={"objectType": "Agent", "mbox": "mailto:forged@example.com"})
    lrs.post(made)
    found = stored(lrs, made["id"])
    assert found["authority"]["account"]["name"] == "conformance"
    assert found["version"] == "1.0.0" and "stored" in found and "timestamp" in found


@covers("XAPI-00330")
def test_actor_verb_and_object_come_back_as_sent(lrs: Lrs) -> None:
    made = statement(version="1.0.3")
    lrs.post(made)
    found = stored(lrs, made["id"])
    assert (found["actor"], found["verb"], found["object"]) == (
        made["actor"], made["verb"], made["object"],
    )  # fmt: skip
    assert found["version"] == "1.0.3"


def _void(lrs: Lrs, target: str) -> Any:
    voiding = statement(verb={"id": VOIDED}, object={"objectType": "StatementRef", "id": target})
    return lrs.post(voiding), voiding


@covers("XAPI-00018", "XAPI-00155", "XAPI-00157")
def test_a_voided_statement_is_found_only_by_voided_statement_id(lrs: Lrs) -> None:
    made = statement()
    lrs.post(made)
    response, voiding = _void(lrs, made["id"])
    assert response.status_code == 200
    assert lrs.get(statementId=made["id"]).status_code == 404
    found = lrs.get(voidedStatementId=made["id"])
    assert found.status_code == 200 and found.json()["id"] == made["id"]
    assert lrs.get(voidedStatementId=voiding["id"]).status_code == 404
    ids = [s["id"] for s in lrs.get(activity=made["object"]["id"]).json()["statements"]]
    assert made["id"] not in ids


@covers("Communication 2.1.3: a statement targeting a matching statement matches too")
def test_statements_targeting_a_match_are_returned(lrs: Lrs) -> None:
    made = statement()
    lrs.post(made)
    pointing = statement(object={"objectType": "StatementRef", "id": made["id"]})
    lrs.post(pointing)
    activity = made["object"]["id"]
    found = {s["id"] for s in lrs.get(activity=activity).json()["statements"]}
    assert found == {made["id"], pointing["id"]}
    _, voiding = _void(lrs, made["id"])
    found = {s["id"] for s in lrs.get(activity=activity).json()["statements"]}
    assert found == {pointing["id"], voiding["id"]}
    by_actor = lrs.get(agent=made["actor"], verb=ATTENDED).json()["statements"]
    assert {s["id"] for s in by_actor} == {pointing["id"], voiding["id"]}


@covers("XAPI-00016")
def test_a_voiding_statement_cannot_be_voided(lrs: Lrs) -> None:
    made = statement()
    lrs.post(made)
    _, voiding = _void(lrs, made["id"])
    response, _ = _void(lrs, voiding["id"])
    assert response.status_code == 400
    assert stored(lrs, voiding["id"])["verb"]["id"] == VOIDED


@covers("XAPI-00019", "XAPI-00020")
def test_voiding_a_statement_the_store_does_not_hold_is_accepted(lrs: Lrs) -> None:
    response, voiding = _void(lrs, str(uuid.uuid4()))
    assert response.status_code == 200
    assert stored(lrs, voiding["id"])["object"]["objectType"] == "StatementRef"


@covers("XAPI-00151")
@pytest.mark.parametrize(
    "extra",
    [{"verb": ATTENDED}, {"activity": "http://www.example.com/x"}, {"limit": 1},
     {"registration": str(uuid.uuid4())}, {"since": "2012-06-01T19:09:13.245Z"},
     {"ascending": True}, {"related_agents": True}],
)  # fmt: skip
def test_statement_id_takes_only_format_and_attachments(lrs: Lrs, extra: dict[str, Any]) -> None:
    made = statement()
    lrs.post(made)
    assert lrs.get(statementId=made["id"], **extra).status_code == 400
    assert lrs.get(statementId=made["id"], format="ids").status_code == 200
    assert lrs.get(statementId=made["id"], attachments=True).status_code == 200


@covers("XAPI-00150")
def test_voided_statement_id_takes_only_format_and_attachments(lrs: Lrs) -> None:
    made = statement()
    lrs.post(made)
    _void(lrs, made["id"])
    assert lrs.get(voidedStatementId=made["id"], verb=ATTENDED).status_code == 400
    assert lrs.get(voidedStatementId=made["id"], format="ids").status_code == 200


@covers("XAPI-00153", "XAPI-00160")
def test_consistent_through_on_every_statement_response(lrs: Lrs) -> None:
    for response in (
        lrs.get(),
        lrs.get(verb=ATTENDED),
        lrs.request("GET", "statements", version=False),  # a 400
        lrs.get(statementId=str(uuid.uuid4())),  # a 404
    ):
        value = response.headers["X-Experience-API-Consistent-Through"]
        assert dt.datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None


@covers("XAPI-00181", "XAPI-00180", "XAPI-00179")
def test_agent_verb_and_activity_filters_match_exactly(lrs: Lrs) -> None:
    first, second = statement(), statement(verb={"id": "http://adlnet.gov/expapi/verbs/passed"})
    lrs.post([first, second])
    by_agent = lrs.get(agent=first["actor"]).json()["statements"]
    assert [s["id"] for s in by_agent] == [first["id"]]
    by_verb = lrs.get(verb="http://adlnet.gov/expapi/verbs/passed", agent=second["actor"])
    assert [s["id"] for s in by_verb.json()["statements"]] == [second["id"]]
    by_activity = lrs.get(activity=first["object"]["id"]).json()["statements"]
    assert [s["id"] for s in by_activity] == [first["id"]]
    assert lrs.get(agent=first["actor"], verb="http://adlnet.gov/expapi/verbs/passed").json() == {
        "statements": [], "more": "",
    }  # fmt: skip


@covers("XAPI-00178")
def test_registration_filter(lrs: Lrs) -> None:
    registration = str(uuid.uuid4())
    made = statement(context={"registration": registration})
    lrs.post([made, statement()])
    found = lrs.get(registration=registration).json()["statements"]
    assert [s["id"] for s in found] == [made["id"]]


@covers("XAPI-00177")
def test_related_activities_reach_context_and_sub_statements(lrs: Lrs) -> None:
    category = f"http://www.example.com/category/{uuid.uuid4().hex}"
    in_context = statement(context={"contextActivities": {"category": {"id": category}}})
    sub = statement()
    inner = statement()
    sub["object"] = {
        "objectType": "SubStatement",
        "actor": inner["actor"],
        "verb": inner["verb"],
        "object": {"objectType": "Activity", "id": category},
    }
    lrs.post([in_context, sub])
    assert lrs.get(activity=category).json()["statements"] == []
    related = lrs.get(activity=category, related_activities=True).json()["statements"]
    assert {s["id"] for s in related} == {in_context["id"], sub["id"]}
    assert stored(lrs, in_context["id"])["context"]["contextActivities"]["category"] == [
        {"id": category}
    ]


@covers("XAPI-00176")
def test_related_agents_reach_instructor_and_authority(lrs: Lrs) -> None:
    instructor = {"objectType": "Agent", "mbox": f"mailto:{uuid.uuid4().hex}@example.com"}
    made = statement(context={"instructor": instructor})
    lrs.post(made)
    assert lrs.get(agent=instructor).json()["statements"] == []
    related = lrs.get(agent=instructor, related_agents=True).json()["statements"]
    assert [s["id"] for s in related] == [made["id"]]


@covers("XAPI-00175", "XAPI-00174")
def test_since_and_until_select_on_stored_time(lrs: Lrs) -> None:
    made = statement()
    lrs.post(made)
    moment = stored(lrs, made["id"])["stored"]
    activity = made["object"]["id"]
    assert lrs.get(activity=activity, since=moment).json()["statements"] == []
    assert len(lrs.get(activity=activity, until=moment).json()["statements"]) == 1
    earlier = "2012-06-01T19:09:13.245Z"
    assert len(lrs.get(activity=activity, since=earlier).json()["statements"]) == 1
    assert lrs.get(activity=activity, until=earlier).json()["statements"] == []


@covers("XAPI-00173", "XAPI-00166", "Communication 2.1.3 more")
def test_limit_order_and_more_pages(lrs: Lrs, served_store: Any) -> None:
    actor = statement()["actor"]
    batch = [statement(actor=actor) for _ in range(5)]
    for made in batch:  # one by one: stored in this order
        assert lrs.post(made).status_code == 200
    newest_first = lrs.get(agent=actor, limit=2).json()
    assert [s["id"] for s in newest_first["statements"]] == [batch[4]["id"], batch[3]["id"]]
    seen = [s["id"] for s in newest_first["statements"]]
    more = newest_first["more"]
    while more:
        assert more.startswith("/xapi/statements?")
        page = lrs.http.get(served_store[2] + more, headers=lrs.headers, auth=lrs.auth).json()
        seen += [s["id"] for s in page["statements"]]
        more = page["more"]
    assert seen == [s["id"] for s in reversed(batch)]
    ascending = lrs.get(agent=actor, ascending=True).json()["statements"]
    assert [s["id"] for s in ascending] == [s["id"] for s in batch]


@covers("XAPI-00172", "Communication 2.1.3 format")
def test_format_ids_and_canonical(lrs: Lrs) -> None:
    made = statement()
    lrs.post(made)
    ids = stored_with(lrs, made["id"], format="ids")
    assert ids["actor"] == {"objectType": "Agent", "mbox": made["actor"]["mbox"]}
    assert ids["object"] == {"objectType": "Activity", "id": made["object"]["id"]}
    response = lrs.request(
        "GET", "statements", params={"statementId": made["id"], "format": "canonical"},
        headers={"Accept-Language": "en-GB"},
    )  # fmt: skip
    canonical = response.json()
    assert canonical["verb"]["display"] == {"en-GB": "attended"}
    assert canonical["object"]["definition"]["name"] == {"en-GB": "example meeting"}
    assert stored_with(lrs, made["id"])["verb"]["display"] == made["verb"]["display"]


def stored_with(lrs: Lrs, ident: str, **params: Any) -> dict[str, Any]:
    response = lrs.get(statementId=ident, **params)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


# --- validation ------------------------------------------------------------------------------


def _without(made: dict[str, Any], name: str) -> dict[str, Any]:
    return {k: v for k, v in made.items() if k != name}


BAD = [
    ("XAPI-00008", lambda s: {**_without(s, "verb"), "Verb": s["verb"]}),
    ("XAPI-00009", lambda s: {**s, "object": {**s["object"], "objectType": "activity"}}),
    ("Data 2.4.1 id is a UUID", lambda s: {**s, "id": "not-a-uuid"}),
    ("Data 2.4.2 actor is required", lambda s: _without(s, "actor")),
    ("Data 2.4.2.1 an agent has one identifier",
     lambda s: {**s, "actor": {"mbox": "mailto:a@example.com", "openid": "http://a.example"}}),
    ("Data 2.4.2.3 mbox is a mailto IRI", lambda s: {**s, "actor": {"mbox": "a@example.com"}}),
    ("Data 2.4.2.3 mbox_sha1sum", lambda s: {**s, "actor": {"mbox_sha1sum": "xyz"}}),
    ("Data 2.4.2.4 an account has homePage and name",
     lambda s: {**s, "actor": {"account": {"name": "a"}}}),
    ("Data 2.4.2.2 a group member is an agent",
     lambda s: {**s, "actor": {"objectType": "Group", "member": [
         {"objectType": "Group", "mbox": "mailto:g@example.com"}]}}),
    ("Data 2.4.2.2 an anonymous group has members",
     lambda s: {**s, "actor": {"objectType": "Group"}}),
    ("XAPI-00044", lambda s: {**s, "verb": {"id": "attended"}}),
    ("XAPI-00045",
     lambda s: {**s, "verb": {"id": ATTENDED, "display": {"not a tag": "x"}}}),
    ("Data 2.4.4.1 activity id is an IRI", lambda s: {**s, "object": {"id": "meeting"}}),
    ("Data 2.4.4.1 interactionType", lambda s: {**s, "object": {
        **s["object"], "definition": {"interactionType": "essay"}}}),
    ("Data 2.4.4.1 interaction components fit the type", lambda s: {**s, "object": {
        **s["object"], "definition": {"interactionType": "true-false", "choices": []}}}),
    ("Data 4.1 extension keys are IRIs", lambda s: {**s, "object": {
        **s["object"], "definition": {"extensions": {"color": "red"}}}}),
    ("Data 2.4.4.3 a sub-statement holds no sub-statement", lambda s: {**s, "object": {
        "objectType": "SubStatement", "actor": s["actor"], "verb": s["verb"],
        "object": {"objectType": "SubStatement", "actor": s["actor"], "verb": s["verb"],
                   "object": s["object"]}}}),
    ("Data 2.4.4.3 a sub-statement has no id",
     lambda s: {**s, "object": {"objectType": "SubStatement", "id": str(uuid.uuid4()),
                                "actor": s["actor"], "verb": s["verb"], "object": s["object"]}}),
    ("XAPI-00083", lambda s: {**s, "result": {"score": {"scaled": 2}}}),
    ("XAPI-00082",
     lambda s: {**s, "result": {"score": {"raw": 11, "min": 0, "max": 10}}}),
    ("Data 2.4.5 success is a boolean", lambda s: {**s, "result": {"success": "yes"}}),
    ("XAPI-00079", lambda s: {**s, "result": {"score": 12345}}),
    ("XAPI-00081", lambda s: {**s, "result": {"score": {"min": 0.68, "max": 0.67}}}),
    ("XAPI-00080", lambda s: {**s, "result": {"score": {"max": "100"}}}),
    ("Data 2.4.1 id is 36 characters",
     lambda s: {**s, "id": "AA97B177-9383-4934-8543-0F91A7A028368"}),
    ("Data 2.4.6 context statement is a StatementRef with a UUID",
     lambda s: {**s, "context": {"statement": {"objectType": "StatementRef", "id": 12345}}}),
    ("Data 2.4.4.3 a sub-statement's verb is validated", lambda s: {**s, "object": {
        "objectType": "SubStatement", "actor": s["actor"], "verb": "ab=c://should.fail.com",
        "object": s["object"]}}),
    ("XAPI-00017", lambda s: {**s, "verb": {"id": VOIDED}}),
    ("Data 2.4.6.2 contextActivities holds one or more kinds",
     lambda s: {**s, "context": {"contextActivities": {}}}),
    ("Data 2.4.6 platform only with an activity object",
     lambda s: {**s, "object": {"objectType": "StatementRef", "id": str(uuid.uuid4())},
                "context": {"platform": "x"}}),
    ("Data 2.4.5 duration is ISO 8601", lambda s: {**s, "result": {"duration": "1 hour"}}),
    ("Data 2.4.6 registration is a UUID", lambda s: {**s, "context": {"registration": "r1"}}),
    ("Data 2.4.6 revision only with an activity object",
     lambda s: {**s, "object": {"mbox": "mailto:b@example.com", "objectType": "Agent"},
                "context": {"revision": "1"}}),
    ("Data 2.4.6 team is a group",
     lambda s: {**s, "context": {"team": {"mbox": "mailto:t@example.com"}}}),
    ("XAPI-00123", lambda s: {**s, "timestamp": "yesterday"}),
    ("Data 4.5 -00:00 offset refused", lambda s: {**s, "timestamp": "2024-01-01T10:00:00-00:00"}),
    ("Data 2.4.10 version is 1.0.x", lambda s: {**s, "version": "2.0.0"}),
    ("Data 2.2 null values refused", lambda s: {**s, "result": {"response": None}}),
    ("Data 2.2 unknown properties refused", lambda s: {**s, "color": "red"}),
    ("Data 2.4.11 attachment properties",
     lambda s: {**s, "attachments": [{"usageType": "http://example.com/u", "display": {"en": "x"},
                                      "contentType": "text/plain", "length": "3", "sha2": "a"}]}),
]  # fmt: skip


@covers(*[requirement for requirement, _ in BAD])
@pytest.mark.parametrize(("requirement", "spoil"), BAD, ids=[r for r, _ in BAD])
def test_invalid_statements_are_refused_with_400(lrs: Lrs, requirement: str, spoil: Any) -> None:
    made = spoil(statement())
    response = lrs.post(made)
    assert response.status_code == 400, (requirement, response.text)
    assert "error" in response.json()
    if isinstance(made.get("id"), str) and len(made["id"]) == 36:
        assert lrs.get(statementId=made["id"]).status_code == 404


@covers("Communication 3.2: bad JSON is 400, never 422", "XAPI-00014")
def test_malformed_json_is_400(lrs: Lrs) -> None:
    response = lrs.request(
        "POST", "statements", content="{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400


@covers("XAPI-00324", "XAPI-00325")
@pytest.mark.parametrize(
    "params", [{"foo": "bar"}, {"StatementId": str(uuid.uuid4())}, {"Verb": ATTENDED},
               {"Limit": 10}, {"Ascending": True}, {"limit": -1}, {"ascending": "yes"}],
)  # fmt: skip
def test_unknown_or_misspelt_parameters_are_400(lrs: Lrs, params: dict[str, Any]) -> None:
    assert lrs.get(**params).status_code == 400


# --- headers, versions, methods, credentials --------------------------------------------------


@covers("XAPI-00331")
def test_the_version_header_is_required_except_by_about(lrs: Lrs) -> None:
    made = statement()
    assert lrs.request("GET", "statements", version=False).status_code == 400
    assert lrs.request("POST", "statements", json_body=made, version=False).status_code == 400
    bad = lrs.request("GET", "statements", headers={"X-Experience-API-Version": "0.95"})
    assert bad.status_code == 400
    assert lrs.request("GET", "about", auth=False, version=False).status_code == 200
    assert lrs.get(statementId=made["id"]).status_code == 404


@covers("XAPI-00333")
def test_every_response_carries_the_version(lrs: Lrs) -> None:
    for response in (lrs.get(), lrs.request("GET", "about"), lrs.get(foo=1),
                     lrs.request("GET", "statements", auth=False)):  # fmt: skip
        assert response.headers["X-Experience-API-Version"] == "1.0.3"


@covers("XAPI-00315", "XAPI-00316", "XAPI-00317", "XAPI-00318", "XAPI-00319")
def test_about_lists_the_versions(lrs: Lrs) -> None:
    body = lrs.request("GET", "about", auth=False, version=False).json()
    assert {"1.0.3", "1.0.1"} <= set(body["version"])
    assert set(body["version"]) <= {"0.9", "0.95", "1.0.0", "1.0.1", "1.0.2", "1.0.3"}
    assert isinstance(body["extensions"], dict)


@covers("Communication 2.2.s4.b2: a new document is never refused for its content")
@pytest.mark.parametrize("document", ["1", "true", '{"a": 1}', "[1, 2]"])
def test_a_posted_new_document_is_stored_as_it_came(lrs: Lrs, document: str) -> None:
    params = _state()
    response = lrs.request(
        "POST", "activities/state", params=params, content=document, headers=JSON
    )
    assert response.status_code == 204
    assert lrs.request("GET", "activities/state", params=params).text == document


@covers("Communication 2.2.s7: a merge is one level deep; 2.2.s8.b1: only JSON merges")
def test_documents_merge_one_level_deep(lrs: Lrs) -> None:
    params = _state()
    first = {"car": {"make": "Ford", "model": "Escape"}, "driver": "Dale"}
    second = {"car": {"make": "Dodge"}, "series": "sprint"}
    for document in (first, second):
        lrs.request("POST", "activities/state", params=params, json_body=document)
    merged = lrs.request("GET", "activities/state", params=params).json()
    assert merged == {"car": {"make": "Dodge"}, "driver": "Dale", "series": "sprint"}
    text = lrs.request("POST", "activities/state", params=params, content="abc",
                       headers={"Content-Type": "text/plain"})  # fmt: skip
    assert text.status_code == 400
    assert lrs.request("GET", "activities/state", params=params).json() == merged


@covers("Communication 3.2.s2.b2 (401)")
def test_requests_without_valid_credentials_are_401(lrs: Lrs) -> None:
    assert lrs.request("GET", "statements", auth=False).status_code == 401
    wrong = lrs.http.get(lrs.base + "/statements", headers=lrs.headers, auth=(lrs.auth[0], "no"))
    assert wrong.status_code == 401 and "WWW-Authenticate" in wrong.headers
    bearer = lrs.http.get(
        lrs.base + "/statements",
        headers={**lrs.headers, "Authorization": f"Bearer {lrs.auth[0]}.{lrs.auth[1]}"},
    )
    assert bearer.status_code == 200


@covers("XAPI-00327")
def test_a_client_without_the_scope_is_403_and_reads_only_its_own(served_store: Any) -> None:
    lrs, engine, base = served_store
    reader = Lrs(
        base, *new_client(engine, f"reader-{uuid.uuid4().hex[:6]}", ("statements/read/mine",))
    )
    assert reader.post(statement()).status_code == 403
    writer = Lrs(base, *new_client(engine, f"writer-{uuid.uuid4().hex[:6]}", DEFAULT_SCOPES))
    mine, theirs = statement(), statement()
    assert writer.post(mine).status_code == 200
    assert lrs.post(theirs).status_code == 200
    assert writer.get(statementId=mine["id"]).status_code == 200
    assert writer.get(statementId=theirs["id"]).status_code == 404
    assert [s["id"] for s in writer.get().json()["statements"]] == [mine["id"]]


@covers("Communication 3.2.s3.b1 (405)")
def test_methods_outside_the_specification_are_405(lrs: Lrs) -> None:
    activity = {"activityId": "http://www.example.com/meetings/1"}
    assert lrs.request("DELETE", "statements", params={"statementId": str(uuid.uuid4())},
                       auth=False).status_code == 405  # fmt: skip
    assert lrs.request("POST", "activities", params=activity).status_code == 405
    assert lrs.request("PUT", "activities", params=activity).status_code == 405
    agent = {"agent": {"mbox": "mailto:a@example.com"}}
    assert lrs.request("DELETE", "agents", params=agent).status_code == 405


@covers("Communication 1.1 HEAD")
def test_head_answers_like_get_without_a_body(lrs: Lrs) -> None:
    response = lrs.request("HEAD", "statements")
    assert response.status_code == 200 and response.content == b""
    assert lrs.request("HEAD", "about", auth=False).status_code == 200


# --- the alternate request syntax ------------------------------------------------------------


def _form(lrs: Lrs, method: str, fields: dict[str, Any], **query: str) -> Any:
    from urllib.parse import urlencode

    return lrs.http.post(
        lrs.base + "/statements",
        params={"method": method, **query},
        content=urlencode(fields),
        headers={**lrs.headers, "Content-Type": "application/x-www-form-urlencoded"},
        auth=lrs.auth,
    )


@covers("XAPI-00336", "XAPI-00148")
def test_the_alternate_request_syntax(lrs: Lrs) -> None:
    made = statement()
    put = _form(lrs, "PUT", {"statementId": made["id"], "content": json.dumps(made)})
    assert put.status_code == 204
    got = _form(lrs, "GET", {"statementId": made["id"]})
    assert got.status_code == 200 and got.json()["id"] == made["id"]
    listed = _form(lrs, "GET", {"limit": 1})
    assert listed.status_code == 200 and set(listed.json()) == {"statements", "more"}
    token = base64.b64encode(":".join(lrs.auth).encode()).decode()
    in_form = lrs.http.post(
        lrs.base + "/statements", params={"method": "GET"},
        content=f"limit=1&X-Experience-API-Version=1.0.3&Authorization=Basic%20{token}",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    assert in_form.status_code == 200


@covers("Communication 1.3: alternate syntax refusals")
def test_the_alternate_request_syntax_refuses_what_it_must(lrs: Lrs) -> None:
    made = statement()
    extra = _form(lrs, "PUT", {"content": json.dumps(made)}, statementId=made["id"])
    assert extra.status_code == 400
    assert _form(lrs, "PUT", {"statementId": str(uuid.uuid4())}).status_code == 400
    not_post = lrs.request("GET", "statements", params={"method": "POST"})
    assert not_post.status_code == 400


# --- attachments -----------------------------------------------------------------------------


def _multipart(parts: list[tuple[dict[str, str], bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = b""
    for headers, content in parts:
        head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        body += f"--{boundary}\r\n{head}\r\n".encode() + content + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return body, f"multipart/mixed; boundary={boundary}"


def _attached(text: bytes) -> tuple[dict[str, Any], dict[str, Any], str]:
    sha2 = hashlib.sha256(text).hexdigest()
    attachment = {
        "usageType": "http://adlnet.gov/expapi/attachments/certificate",
        "display": {"en-US": "certificate"},
        "contentType": "text/plain",
        "length": len(text),
        "sha2": sha2,
    }
    return statement(attachments=[attachment]), attachment, sha2


@covers("Data 2.4.11 attachments (multipart/mixed in and out)")
def test_attachments_travel_as_multipart(lrs: Lrs) -> None:
    text = b"here is a simple attachment"
    made, _, sha2 = _attached(text)
    body, content_type = _multipart([
        ({"Content-Type": "application/json"}, json.dumps(made).encode()),
        ({"Content-Type": "text/plain", "Content-Transfer-Encoding": "binary",
          "X-Experience-API-Hash": sha2}, text),
    ])  # fmt: skip
    response = lrs.request(
        "POST", "statements", content=body, headers={"Content-Type": content_type}
    )
    assert response.status_code == 200, response.text
    back = lrs.get(statementId=made["id"], attachments=True)
    assert back.headers["content-type"].startswith("multipart/mixed")
    assert text in back.content and sha2.encode() in back.content
    plain = lrs.get(statementId=made["id"])
    assert plain.headers["content-type"].startswith("application/json")


@covers("Data 2.4.11: an attachment without its part or a part without its attachment")
def test_missing_or_stray_attachment_parts_are_400(lrs: Lrs) -> None:
    text = b"attachment"
    made, _, sha2 = _attached(text)
    assert lrs.post(made).status_code == 400
    stray, content_type = _multipart([
        ({"Content-Type": "application/json"}, json.dumps(statement()).encode()),
        ({"Content-Type": "text/plain", "Content-Transfer-Encoding": "binary",
          "X-Experience-API-Hash": sha2}, text),
    ])  # fmt: skip
    response = lrs.request(
        "POST", "statements", content=stray, headers={"Content-Type": content_type}
    )
    assert response.status_code == 400
    with_url = statement(attachments=[{**_attached(text)[1], "fileUrl": "http://example.com/f"}])
    assert lrs.post(with_url).status_code == 200


@covers("Data 2.6 a malformed signature is refused")
def test_a_malformed_signature_is_400(lrs: Lrs) -> None:
    token = b"not-a-jws"
    sha2 = hashlib.sha256(token).hexdigest()
    made = statement(attachments=[{
        "usageType": "http://adlnet.gov/expapi/attachments/signature",
        "display": {"en-US": "signature"}, "contentType": "application/octet-stream",
        "length": len(token), "sha2": sha2,
    }])  # fmt: skip
    body, content_type = _multipart([
        ({"Content-Type": "application/json"}, json.dumps(made).encode()),
        ({"Content-Type": "application/octet-stream", "Content-Transfer-Encoding": "binary",
          "X-Experience-API-Hash": sha2}, token),
    ])  # fmt: skip
    response = lrs.request(
        "POST", "statements", content=body, headers={"Content-Type": content_type}
    )
    assert response.status_code == 400


# --- documents: state, activity profile, agent profile ----------------------------------------


def _state(**extra: Any) -> dict[str, Any]:
    return {
        "activityId": f"http://www.example.com/activities/{uuid.uuid4().hex}",
        "agent": {"objectType": "Agent", "mbox": f"mailto:{uuid.uuid4().hex}@example.com"},
        "stateId": "bookmark",
        **extra,
    }


JSON = {"Content-Type": "application/json"}


@covers("Communication 2.3 state: PUT, GET, POST merges, DELETE")
def test_state_documents(lrs: Lrs) -> None:
    params = _state()
    assert lrs.request("GET", "activities/state", params=params).status_code == 404
    put = lrs.request("PUT", "activities/state", params=params, content='{"a": 1}', headers=JSON)
    assert put.status_code == 204
    post = lrs.request("POST", "activities/state", params=params, content='{"b": 2}', headers=JSON)
    assert post.status_code == 204
    got = lrs.request("GET", "activities/state", params=params)
    assert got.json() == {"a": 1, "b": 2}
    listing = {k: v for k, v in params.items() if k != "stateId"}
    assert lrs.request("GET", "activities/state", params=listing).json() == ["bookmark"]
    assert lrs.request("DELETE", "activities/state", params=params).status_code == 204
    assert lrs.request("GET", "activities/state", params=params).status_code == 404


@covers("Communication 2.3 state: registration scopes, since, delete all")
def test_state_registration_since_and_delete_all(lrs: Lrs) -> None:
    params = _state(registration=str(uuid.uuid4()))
    lrs.request("PUT", "activities/state", params=params, content="one")
    other = {**params, "stateId": "second"}
    lrs.request("PUT", "activities/state", params=other, content="two")
    without = {k: v for k, v in params.items() if k not in ("registration",)}
    assert lrs.request("GET", "activities/state", params=without).status_code == 404
    listing = {k: v for k, v in params.items() if k != "stateId"}
    assert sorted(lrs.request("GET", "activities/state", params=listing).json()) == [
        "bookmark", "second",
    ]  # fmt: skip
    future = {**listing, "since": "2999-01-01T00:00:00Z"}
    assert lrs.request("GET", "activities/state", params=future).json() == []
    assert lrs.request("DELETE", "activities/state", params=listing).status_code == 204
    assert lrs.request("GET", "activities/state", params=listing).json() == []


@covers("Communication 2.3 state: required parameters")
def test_state_needs_activity_and_agent(lrs: Lrs) -> None:
    params = _state()
    for missing in ("activityId", "agent"):
        partial = {k: v for k, v in params.items() if k != missing}
        assert (
            lrs.request("PUT", "activities/state", params=partial, content="x").status_code == 400
        )
    bad_agent = {**params, "agent": {"name": "nobody"}}
    assert lrs.request("GET", "activities/state", params=bad_agent).status_code == 400


@covers("XAPI-00322")
def test_etags_make_document_writes_safe(lrs: Lrs) -> None:
    params = {"activityId": f"http://www.example.com/a/{uuid.uuid4().hex}", "profileId": "p"}
    first = lrs.request("PUT", "activities/profile", params=params, content='{"v": 1}',
                        headers={**JSON, "If-None-Match": "*"})  # fmt: skip
    assert first.status_code == 204
    got = lrs.request("GET", "activities/profile", params=params)
    etag = got.headers["ETag"]
    assert etag == '"' + hashlib.sha1(b'{"v": 1}').hexdigest() + '"'
    unheaded = lrs.request(
        "PUT", "activities/profile", params=params, content='{"v": 2}', headers=JSON
    )
    assert unheaded.status_code == 409 and unheaded.text
    stale = lrs.request("PUT", "activities/profile", params=params, content='{"v": 3}',
                        headers={**JSON, "If-Match": '"' + "1" * 40 + '"'})  # fmt: skip
    assert stale.status_code == 412
    again = lrs.request("PUT", "activities/profile", params=params, content='{"v": 4}',
                        headers={**JSON, "If-None-Match": "*"})  # fmt: skip
    assert again.status_code == 412
    assert lrs.request("GET", "activities/profile", params=params).json() == {"v": 1}
    fresh = lrs.request("PUT", "activities/profile", params=params, content='{"v": 5}',
                        headers={**JSON, "If-Match": etag})  # fmt: skip
    assert fresh.status_code == 204
    assert lrs.request("GET", "activities/profile", params=params).json() == {"v": 5}


@covers("Communication 2.6 agent profile")
def test_agent_profiles(lrs: Lrs) -> None:
    agent = {"objectType": "Agent", "mbox": f"mailto:{uuid.uuid4().hex}@example.com"}
    params = {"agent": agent, "profileId": "prefs"}
    assert lrs.request("POST", "agents/profile", params=params, content='{"a": 1}',
                       headers=JSON).status_code == 204  # fmt: skip
    got = lrs.request("GET", "agents/profile", params=params)
    assert got.json() == {"a": 1} and got.headers["ETag"].startswith('"')
    assert lrs.request("GET", "agents/profile", params={"agent": agent}).json() == ["prefs"]
    not_json = lrs.request("POST", "agents/profile", params=params, content="text",
                           headers={"Content-Type": "text/plain"})  # fmt: skip
    assert not_json.status_code == 400
    assert lrs.request("DELETE", "agents/profile", params=params,
                       headers={"If-Match": got.headers["ETag"]}).status_code == 204  # fmt: skip
    assert lrs.request("GET", "agents/profile", params=params).status_code == 404


@covers("XAPI-00240", "XAPI-00241", "XAPI-00242", "XAPI-00246", "XAPI-00247")
def test_a_person_holds_each_identifier_as_an_array(lrs: Lrs) -> None:
    for agent in (
        {"mbox_sha1sum": hashlib.sha1(uuid.uuid4().bytes).hexdigest()},
        {"openid": f"https://openid.example.org/{uuid.uuid4().hex}"},
        {"account": {"homePage": "https://sis.example.org", "name": uuid.uuid4().hex}},
    ):
        ((name, value),) = agent.items()
        assert lrs.post(statement(actor=agent)).status_code == 200
        person = lrs.request("GET", "agents", params={"agent": agent}).json()
        assert person == {"objectType": "Person", name: [value]}


@covers("Communication 2.5 activities", "XAPI-00236", "XAPI-00237", "XAPI-00238", "XAPI-00239",
        "XAPI-00243", "XAPI-00244", "XAPI-00245", "XAPI-00248", "XAPI-00249")  # fmt: skip
def test_activities_and_agents(lrs: Lrs) -> None:
    made = statement()
    lrs.post(made)
    activity = lrs.request("GET", "activities", params={"activityId": made["object"]["id"]})
    assert activity.json() == {
        "objectType": "Activity",
        **{k: made["object"][k] for k in ("id", "definition")},
    }
    person = lrs.request("GET", "agents", params={"agent": made["actor"]}).json()
    assert person == {"objectType": "Person", "name": ["Ada"], "mbox": [made["actor"]["mbox"]]}
    assert lrs.request("GET", "agents", params={"agent": {"name": "x"}}).status_code == 400
    assert lrs.request("GET", "agents").status_code == 400
    assert lrs.request("GET", "activities").status_code == 400
    not_iri = lrs.request("GET", "activities", params={"activityId": "not an iri"})
    assert not_iri.status_code == 400


def test_requirements_are_named() -> None:
    """Every test of this module names the requirements it checks; the count is reported."""
    tests = [
        name for name, value in globals().items() if name.startswith("test_") and callable(value)
    ]
    unnamed = [
        name for name in tests
        if name != "test_requirements_are_named"
        and not getattr(globals()[name], "requirements", ())
    ]  # fmt: skip
    assert unnamed == []
    adl = sorted(r for r in REQUIREMENTS if r.startswith("XAPI-"))
    assert len(adl) >= 71, adl
