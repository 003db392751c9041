"""The xAPI statement model, without a database: validation, identities, query terms, what a
statement says about an answer, and Learnway's attempts as statements."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from learnway.interop import xapi as model

AGENT = {"objectType": "Agent", "mbox": "mailto:ada@example.org"}


def _statement(**changes: Any) -> dict[str, Any]:
    made: dict[str, Any] = {
        "actor": AGENT,
        "verb": {"id": model.ANSWERED},
        "object": {"id": "https://quiz.example.org/q/1"},
    }
    made.update(changes)
    return made


def test_a_minimal_statement_is_valid() -> None:
    model.validate_statement(_statement())


@pytest.mark.parametrize(
    ("changes", "where"),
    [
        ({"actor": {"mbox": "ada@example.org"}}, "actor.mbox"),
        ({"actor": {"objectType": "Group"}}, "anonymous group"),
        ({"verb": {"id": "answered"}}, "verb.id"),
        ({"object": {"id": "https://q.example/1", "objectType": "activity"}}, "objectType"),
        ({"result": {"score": {"scaled": 1.5}}}, "result.score.scaled"),
        ({"context": {"registration": "nope"}}, "context.registration"),
        ({"timestamp": "2024-02-30T10:00:00Z"}, "timestamp"),
        ({"extra": 1}, "unknown property"),
    ],
)
def test_invalid_statements_name_the_problem(changes: dict[str, Any], where: str) -> None:
    with pytest.raises(model.XapiInvalid, match=where):
        model.validate_statement(_statement(**changes))


def test_agent_keys_identify_agents_whatever_their_names() -> None:
    assert model.agent_key({**AGENT, "name": "Ada"}) == model.agent_key(AGENT)
    account = {"account": {"homePage": "https://sis.example.org", "name": "s-1"}}
    assert model.agent_key(account) == "account:https://sis.example.org|s-1"
    assert model.agent_key({"objectType": "Group", "member": [AGENT]}) is None


def test_query_terms_tell_direct_from_related() -> None:
    teacher = {"mbox": "mailto:teacher@example.org"}
    statement = _statement(
        context={"instructor": teacher, "contextActivities": {"parent": [{"id": "https://c/1"}]}}
    )
    terms = model.statement_terms(statement)
    assert terms[("agent", "mbox:mailto:ada@example.org")] is True
    assert terms[("agent", "mbox:mailto:teacher@example.org")] is False
    assert terms[("activity", "https://quiz.example.org/q/1")] is True
    assert terms[("activity", "https://c/1")] is False


@pytest.mark.parametrize(
    ("changes", "correct", "score"),
    [
        ({"result": {"success": False}}, False, None),
        ({"verb": {"id": "http://adlnet.gov/expapi/verbs/passed"}}, True, None),
        ({"result": {"score": {"raw": 3, "min": 0, "max": 4}}}, True, 0.75),
        ({"result": {"score": {"scaled": -0.5}}}, False, 0.0),
    ],
)
def test_what_a_statement_says_about_an_answer(
    changes: dict[str, Any], correct: bool, score: float | None
) -> None:
    said = model.evidence(_statement(**changes))
    assert said is not None and said["correct"] is correct and said["score"] == score


def test_a_statement_that_judges_nothing_is_no_evidence() -> None:
    assert model.evidence(_statement()) is None
    voiding = _statement(
        verb={"id": model.VOIDED}, object={"objectType": "StatementRef", "id": "x"}
    )
    assert model.evidence(voiding) is None


def test_durations_and_times() -> None:
    assert model.duration_seconds("PT1M30.5S") == 90.5
    assert model.duration_seconds("P1DT1H") == 90000
    with pytest.raises(model.XapiInvalid):
        model.duration_seconds("PT")
    moment = model.parse_timestamp("2024-03-01T10:00:00+02:00")
    assert moment == dt.datetime(2024, 3, 1, 8, tzinfo=dt.UTC)
    assert model.parse_timestamp("2024-03-01T10:00:00").tzinfo == dt.UTC
    assert model.format_timestamp(moment) == "2024-03-01T08:00:00.000Z"


def test_an_attempt_becomes_a_valid_answered_statement_and_back() -> None:
    statement = model.attempt_statement(
        attempt_id="a-1", home_page="https://school.example/", student="s-1",
        step_iri="https://school.example/xapi/activities/steps/step-1", step_name="Solve 2x=4",
        competency_iris=["https://school.example/xapi/activities/competencies/f/c1"],
        correct=True, timestamp=dt.datetime(2024, 3, 1, tzinfo=dt.UTC), score=1.0,
        hints_used=2, duration_s=12.5, response="x=2",
        authority={"objectType": "Agent", "account": {"homePage": "https://school.example/",
                                                      "name": "learnway"}},
    )  # fmt: skip
    model.validate_statement(statement)
    assert statement["id"] == model.statement_id_of_attempt("a-1")
    assert statement["actor"] == {
        "objectType": "Agent",
        "account": {"homePage": "https://school.example/", "name": "s-1"},
    }
    said = model.evidence(statement)
    assert said == {"correct": True, "score": 1.0, "hints_used": 2, "duration_s": 12.5,
                    "response": "x=2"}  # fmt: skip


def test_formats_ids_and_canonical() -> None:
    statement = _statement(
        verb={"id": model.ANSWERED, "display": {"en-US": "answered", "fr": "a répondu"}},
        object={"id": "https://q/1", "definition": {"name": {"en-US": "Q", "fr": "Q"}}},
    )
    ids = model.formatted(statement, "ids", [])
    assert ids["object"] == {"objectType": "Activity", "id": "https://q/1"}
    canonical = model.formatted(statement, "canonical", ["fr"])
    assert canonical["verb"]["display"] == {"fr": "a répondu"}
    assert model.formatted(statement, "exact", []) is statement
