"""Learnway's statement validation beside a third-party one: ralph's pydantic xAPI models
(``ralph-malph``, ``BaseXapiStatement``), on the statements of the conformance tests.

Every statement the requirements refuse, Learnway refuses (asserted), and every valid statement
of the tests both accept (asserted: Learnway's rules are not stricter than ralph's on them).
How many of the refused statements ralph refuses as well is printed (``-s``): ralph's models
check the shape of a statement, not every rule an LRS must enforce (an empty context, a
registration that is not a UUID, ...), which is why the LRS does not rely on them."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from pydantic import ValidationError
from ralph.models.xapi.base.statements import BaseXapiStatement

from learnway.interop.xapi import XapiInvalid, validate_statement
from web.test_xapi_requirements import AGENT, REFUSED, statement

ATTENDED = "http://adlnet.gov/expapi/verbs/attended"


def _valid() -> list[dict[str, Any]]:
    base = statement()
    target = str(uuid.uuid4())
    return [
        base,
        statement(
            result={
                "success": True,
                "completion": True,
                "response": "4",
                "duration": "PT1M3.5S",
                "score": {"scaled": 0.5, "raw": 5, "min": 0, "max": 10},
            }
        ),
        statement(
            context={
                "registration": str(uuid.uuid4()),
                "platform": "Learnway",
                "language": "en-US",
                "instructor": AGENT,
                "contextActivities": {"parent": [{"id": "http://example.com/c"}]},
                "extensions": {"http://example.com/hints": 2},
            }
        ),
        statement(object={"objectType": "StatementRef", "id": target}),
        statement(
            object={
                "objectType": "SubStatement",
                "actor": AGENT,
                "verb": {"id": ATTENDED},
                "object": {"id": "http://example.com/a"},
            }
        ),
        statement(actor={"objectType": "Group", "name": "team", "member": [AGENT]}),
        statement(
            actor={
                "objectType": "Agent",
                "account": {"homePage": "https://sis.example.org", "name": "s-1"},
            }
        ),
        statement(
            object={
                "id": "http://example.com/q1",
                "definition": {
                    "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
                    "interactionType": "choice",
                    "correctResponsesPattern": ["a"],
                    "choices": [
                        {"id": "a", "description": {"en-US": "A"}},
                        {"id": "b", "description": {"en-US": "B"}},
                    ],
                },
            }
        ),
        statement(timestamp="2026-11-26T10:00:00.123Z", version="1.0.3"),
        statement(
            attachments=[
                {
                    "usageType": "http://example.com/cert",
                    "display": {"en-US": "certificate"},
                    "contentType": "text/plain",
                    "length": 3,
                    "sha2": "a" * 64,
                    "fileUrl": "http://files.example.com/c.txt",
                }
            ]
        ),
    ]


def _ralph_accepts(made: Any) -> bool:
    try:
        BaseXapiStatement.model_validate(made)
    except (ValidationError, TypeError, ValueError):
        return False
    return True


@pytest.mark.parametrize("made", _valid(), ids=lambda m: str(sorted(m))[:40])
def test_valid_statements_pass_both(made: dict[str, Any]) -> None:
    validate_statement(made)
    assert _ralph_accepts(made), made


def test_what_learnway_refuses_and_how_much_of_it_ralph_refuses_too() -> None:
    refused_by_ralph = []
    for requirement, spoil in REFUSED:
        made = spoil(statement())
        with pytest.raises(XapiInvalid):
            validate_statement(made)
        if not _ralph_accepts(made):
            refused_by_ralph.append(requirement)
    share = len(refused_by_ralph) / len(REFUSED)
    print(
        f"\nLearnway refuses {len(REFUSED)} of {len(REFUSED)} invalid statements; ralph "
        f"{len(refused_by_ralph)} ({share:.0%}); ralph accepts those of "
        f"{sorted(set(r for r, _ in REFUSED) - set(refused_by_ralph))}"
    )
    assert refused_by_ralph  # the comparison means something: ralph does validate
