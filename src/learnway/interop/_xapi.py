"""xAPI 1.0.3 statements: validation, identities, and Learnway's attempts as statements.

Pure: JSON-shaped values in, JSON-shaped values out; no database. The learning record store
(``learnway.store`` for storage, ``learnway.web`` for the HTTP resources) validates every
statement with :func:`validate_statement` before it stores anything.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

VERSION = "1.0.3"
VERSIONS = ("1.0.3", "1.0.2", "1.0.1", "1.0.0")
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
ANSWERED = "http://adlnet.gov/expapi/verbs/answered"
SIGNATURE = "http://adlnet.gov/expapi/attachments/signature"
HINTS = "https://learnway.org/xapi/extensions/hints-used"
"""Context extension of Learnway's statements: hints the student opened before answering."""
NAMESPACE = uuid.UUID("7c1e6a57-52f3-4a8e-9a55-3b1f4d2a8e10")
"""Statement ids of Learnway's own attempts are UUID-5 names of the attempt id here."""

INTERACTION_TYPES = {
    "true-false": (),
    "choice": ("choices",),
    "fill-in": (),
    "long-fill-in": (),
    "matching": ("source", "target"),
    "performance": ("steps",),
    "sequencing": ("choices",),
    "likert": ("scale",),
    "numeric": (),
    "other": (),
}
COMPONENT_LISTS = ("choices", "scale", "source", "target", "steps")
CONTEXT_ACTIVITY_KINDS = ("parent", "grouping", "category", "other")

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s]+$")
_LANGUAGE = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")
_MEDIA_TYPE = re.compile(r"^[\w.+-]+/[\w.+-]+(\s*;.*)?$")
_SHA1 = re.compile(r"^[0-9a-fA-F]{40}$")
_DURATION = re.compile(
    r"^P(?!$)(\d+(?:\.\d+)?Y)?(\d+(?:\.\d+)?M)?(\d+(?:\.\d+)?W)?(\d+(?:\.\d+)?D)?"
    r"(T(?=\d)(\d+(?:\.\d+)?H)?(\d+(?:\.\d+)?M)?(\d+(?:\.\d+)?S)?)?$"
)
_TIMESTAMP = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?$", re.IGNORECASE
)


class XapiInvalid(ValueError):
    """A statement, agent or parameter that xAPI 1.0.3 does not allow; the reason says where."""


def _fail(where: str, reason: str) -> XapiInvalid:
    return XapiInvalid(f"{where}: {reason}")


def is_uuid(value: object) -> bool:
    return isinstance(value, str) and bool(_UUID.match(value))


def is_iri(value: object) -> bool:
    return isinstance(value, str) and bool(_IRI.match(value))


def parse_timestamp(value: object, where: str = "timestamp") -> dt.datetime:
    """An ISO 8601 time; without a time zone it is taken as UTC. ``-00:00`` is refused."""
    if not isinstance(value, str) or not _TIMESTAMP.match(value):
        raise _fail(where, "must be an ISO 8601 date and time")
    if value.endswith("-00:00") or value.endswith("-0000"):
        raise _fail(where, "the offset -00:00 is not allowed")
    try:
        moment = dt.datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError as error:
        raise _fail(where, f"is not a valid time ({error})") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def format_timestamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def duration_seconds(value: str) -> float:
    """Seconds of an ISO 8601 duration (years and months counted as 365 and 30 days)."""
    match = _DURATION.match(value)
    if not match:
        raise _fail("duration", "must be an ISO 8601 duration")
    units = (365 * 86400.0, 30 * 86400.0, 7 * 86400.0, 86400.0, None, 3600.0, 60.0, 1.0)
    total = 0.0
    for part, unit in zip(match.groups(), units, strict=True):
        if part and unit is not None:
            total += float(part[:-1]) * unit
    return total


def digest(text: str) -> str:
    """The key under which an identifier is indexed (SHA-256, hexadecimal)."""
    return hashlib.sha256(text.encode()).hexdigest()


# --- validation ------------------------------------------------------------------------------


def _object(
    value: object, where: str, allowed: set[str], required: frozenset[str] | set[str] = frozenset()
) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _fail(where, "must be a JSON object")
    extra = set(value) - allowed
    if extra:
        raise _fail(where, f"unknown propert{'y' if len(extra) == 1 else 'ies'} {sorted(extra)}")
    for name, item in value.items():
        if item is None:
            raise _fail(f"{where}.{name}", "must not be null")
        if item == {} and name != "extensions":
            raise _fail(f"{where}.{name}", "must not be an empty object")
    missing = required - set(value)
    if missing:
        raise _fail(where, f"missing {sorted(missing)}")
    return value


def _string(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise _fail(where, "must be a string")
    return value


def _iri(value: object, where: str) -> str:
    if not is_iri(value):
        raise _fail(where, "must be an absolute IRI")
    return str(value)


def _language_map(value: object, where: str) -> None:
    if not isinstance(value, dict):
        raise _fail(where, "must be a language map")
    for tag, text in value.items():
        if not _LANGUAGE.match(tag):
            raise _fail(where, f"{tag!r} is not an RFC 5646 language tag")
        if not isinstance(text, str):
            raise _fail(f"{where}.{tag}", "must be a string")


def _extensions(value: object, where: str) -> None:
    if not isinstance(value, dict):
        raise _fail(where, "must be a JSON object")
    for key in value:
        _iri(key, f"{where} key {key!r}")


def validate_agent(value: object, where: str = "agent", *, group_member: bool = False) -> None:
    """An Agent or Group: one inverse functional identifier for an agent, members or one for a
    group (a member of a group must be an agent)."""
    allowed = {"objectType", "name", "mbox", "mbox_sha1sum", "openid", "account", "member"}
    agent = _object(value, where, allowed)
    kind = agent.get("objectType", "Agent")
    if kind not in ("Agent", "Group") or (group_member and kind == "Group"):
        raise _fail(
            f"{where}.objectType", "must be 'Agent'" + ("" if group_member else " or 'Group'")
        )
    if "name" in agent:
        _string(agent["name"], f"{where}.name")
    ifis = [name for name in ("mbox", "mbox_sha1sum", "openid", "account") if name in agent]
    if len(ifis) > 1:
        raise _fail(where, f"must have one identifier, not {ifis}")
    if "mbox" in agent:
        mbox = _string(agent["mbox"], f"{where}.mbox")
        if not mbox.startswith("mailto:") or "@" not in mbox:
            raise _fail(f"{where}.mbox", "must be a mailto: IRI")
    if "mbox_sha1sum" in agent and not (
        isinstance(agent["mbox_sha1sum"], str) and _SHA1.match(agent["mbox_sha1sum"])
    ):
        raise _fail(f"{where}.mbox_sha1sum", "must be a SHA-1 in hexadecimal")
    if "openid" in agent:
        _iri(agent["openid"], f"{where}.openid")
    if "account" in agent:
        account = _object(
            agent["account"], f"{where}.account", {"homePage", "name"}, {"homePage", "name"}
        )
        _iri(account["homePage"], f"{where}.account.homePage")
        _string(account["name"], f"{where}.account.name")
    if kind == "Agent":
        if "member" in agent:
            raise _fail(where, "an agent has no members")
        if not ifis:
            raise _fail(where, "an agent needs mbox, mbox_sha1sum, openid or account")
        return
    if "member" in agent:
        if not isinstance(agent["member"], list):
            raise _fail(f"{where}.member", "must be an array")
        for i, member in enumerate(agent["member"]):
            validate_agent(member, f"{where}.member[{i}]", group_member=True)
    if not ifis and not agent.get("member"):
        raise _fail(where, "an anonymous group needs members")


def _component_list(value: object, where: str) -> None:
    if not isinstance(value, list):
        raise _fail(where, "must be an array")
    seen = set()
    for i, component in enumerate(value):
        item = _object(component, f"{where}[{i}]", {"id", "description"}, {"id"})
        ident = _string(item["id"], f"{where}[{i}].id")
        if ident in seen:
            raise _fail(f"{where}[{i}].id", "repeats an earlier id")
        seen.add(ident)
        if "description" in item:
            _language_map(item["description"], f"{where}[{i}].description")


def validate_activity(value: object, where: str = "object") -> None:
    activity = _object(value, where, {"objectType", "id", "definition"}, {"id"})
    if activity.get("objectType", "Activity") != "Activity":
        raise _fail(f"{where}.objectType", "must be 'Activity'")
    _iri(activity["id"], f"{where}.id")
    if "definition" not in activity:
        return
    allowed = {"name", "description", "type", "moreInfo", "interactionType",
               "correctResponsesPattern", "extensions", *COMPONENT_LISTS}  # fmt: skip
    definition = _object(activity["definition"], f"{where}.definition", allowed)
    for name in ("name", "description"):
        if name in definition:
            _language_map(definition[name], f"{where}.definition.{name}")
    for name in ("type", "moreInfo"):
        if name in definition:
            _iri(definition[name], f"{where}.definition.{name}")
    if "extensions" in definition:
        _extensions(definition["extensions"], f"{where}.definition.extensions")
    interaction = definition.get("interactionType")
    lists = [name for name in COMPONENT_LISTS if name in definition]
    if interaction is None:
        if lists or "correctResponsesPattern" in definition:
            raise _fail(f"{where}.definition", "interaction properties need an interactionType")
        return
    if interaction not in INTERACTION_TYPES:
        raise _fail(f"{where}.definition.interactionType", f"{interaction!r} is not one of xAPI's")
    for name in lists:
        if name not in INTERACTION_TYPES[interaction]:
            raise _fail(f"{where}.definition.{name}", f"not allowed for {interaction}")
        _component_list(definition[name], f"{where}.definition.{name}")
    if "correctResponsesPattern" in definition:
        pattern = definition["correctResponsesPattern"]
        if not isinstance(pattern, list) or not all(isinstance(p, str) for p in pattern):
            raise _fail(
                f"{where}.definition.correctResponsesPattern", "must be an array of strings"
            )


def _statement_ref(value: object, where: str) -> None:
    ref = _object(value, where, {"objectType", "id"}, {"objectType", "id"})
    if ref["objectType"] != "StatementRef":
        raise _fail(f"{where}.objectType", "must be 'StatementRef'")
    if not is_uuid(ref["id"]):
        raise _fail(f"{where}.id", "must be a UUID")


def _result(value: object) -> None:
    allowed = {"score", "success", "completion", "response", "duration", "extensions"}
    result = _object(value, "result", allowed)
    if "score" in result:
        score = _object(result["score"], "result.score", {"scaled", "raw", "min", "max"})
        for name, number in score.items():
            if isinstance(number, bool) or not isinstance(number, int | float):
                raise _fail(f"result.score.{name}", "must be a number")
        if "scaled" in score and not -1 <= score["scaled"] <= 1:
            raise _fail("result.score.scaled", "must be between -1 and 1")
        low, high, raw = score.get("min"), score.get("max"), score.get("raw")
        if low is not None and high is not None and low >= high:
            raise _fail("result.score", "min must be less than max")
        if raw is not None and (
            (low is not None and raw < low) or (high is not None and raw > high)
        ):
            raise _fail("result.score.raw", "must be between min and max")
    for name in ("success", "completion"):
        if name in result and not isinstance(result[name], bool):
            raise _fail(f"result.{name}", "must be true or false")
    if "response" in result:
        _string(result["response"], "result.response")
    if "duration" in result:
        duration = _string(result["duration"], "result.duration")
        if not _DURATION.match(duration):
            raise _fail("result.duration", "must be an ISO 8601 duration")
    if "extensions" in result:
        _extensions(result["extensions"], "result.extensions")


def _context(value: object, object_kind: str) -> None:
    allowed = {"registration", "instructor", "team", "contextActivities", "revision", "platform",
               "language", "statement", "extensions"}  # fmt: skip
    context = _object(value, "context", allowed)
    if "registration" in context and not is_uuid(context["registration"]):
        raise _fail("context.registration", "must be a UUID")
    if "instructor" in context:
        validate_agent(context["instructor"], "context.instructor")
    if "team" in context:
        validate_agent(context["team"], "context.team")
        if context["team"].get("objectType") != "Group":
            raise _fail("context.team", "must be a Group")
    if "contextActivities" in context:
        groups = _object(
            context["contextActivities"], "context.contextActivities", set(CONTEXT_ACTIVITY_KINDS)
        )
        if not groups:
            raise _fail(
                "context.contextActivities", "must hold parent, grouping, category or other"
            )
        for kind, activities in groups.items():
            items = activities if isinstance(activities, list) else [activities]
            for i, activity in enumerate(items):
                validate_activity(activity, f"context.contextActivities.{kind}[{i}]")
    for name in ("revision", "platform"):
        if name in context:
            _string(context[name], f"context.{name}")
            if object_kind != "Activity":
                raise _fail(f"context.{name}", "only allowed when the object is an activity")
    if "language" in context and not (
        isinstance(context["language"], str) and _LANGUAGE.match(context["language"])
    ):
        raise _fail("context.language", "must be an RFC 5646 language tag")
    if "statement" in context:
        _statement_ref(context["statement"], "context.statement")
    if "extensions" in context:
        _extensions(context["extensions"], "context.extensions")


def _attachments(value: object) -> None:
    if not isinstance(value, list):
        raise _fail("attachments", "must be an array")
    allowed = {"usageType", "display", "description", "contentType", "length", "sha2", "fileUrl"}
    for i, item in enumerate(value):
        where = f"attachments[{i}]"
        attachment = _object(
            item, where, allowed, {"usageType", "display", "contentType", "length", "sha2"}
        )
        _iri(attachment["usageType"], f"{where}.usageType")
        _language_map(attachment["display"], f"{where}.display")
        if "description" in attachment:
            _language_map(attachment["description"], f"{where}.description")
        if not _MEDIA_TYPE.match(_string(attachment["contentType"], f"{where}.contentType")):
            raise _fail(f"{where}.contentType", "must be an Internet media type (type/subtype)")
        length = attachment["length"]
        if isinstance(length, bool) or not isinstance(length, int) or length < 0:
            raise _fail(f"{where}.length", "must be a whole number")
        _string(attachment["sha2"], f"{where}.sha2")
        if "fileUrl" in attachment:
            _iri(attachment["fileUrl"], f"{where}.fileUrl")


def validate_statement(value: object, *, sub: bool = False) -> None:
    """Raise :class:`XapiInvalid` naming the first thing xAPI 1.0.3 does not allow."""
    allowed = {"actor", "verb", "object", "result", "context", "timestamp", "attachments"}
    if sub:
        allowed.add("objectType")
    else:
        allowed |= {"id", "stored", "authority", "version"}
    where = "object" if sub else "statement"
    statement = _object(value, where, allowed, {"actor", "verb", "object"})
    if "id" in statement and not is_uuid(statement["id"]):
        raise _fail("id", "must be a UUID")
    validate_agent(statement["actor"], "actor")
    verb = _object(statement["verb"], "verb", {"id", "display"}, {"id"})
    _iri(verb["id"], "verb.id")
    if "display" in verb:
        _language_map(verb["display"], "verb.display")
    target = statement["object"]
    kind = target.get("objectType", "Activity") if isinstance(target, dict) else None
    if kind == "Activity":
        validate_activity(target)
    elif kind in ("Agent", "Group"):
        validate_agent(target, "object")
    elif kind == "StatementRef":
        _statement_ref(target, "object")
    elif kind == "SubStatement" and not sub:
        validate_statement(target, sub=True)
    else:
        if not isinstance(target, dict):
            raise _fail("object", "must be a JSON object")
        raise _fail(
            "object.objectType",
            f"{kind!r} is not Activity, Agent, Group, StatementRef or SubStatement (case matters)",
        )
    if verb["id"] == VOIDED and kind != "StatementRef":
        raise _fail("object", "a voiding statement's object must be a StatementRef")
    if "result" in statement:
        _result(statement["result"])
    if "context" in statement:
        _context(statement["context"], kind)
    for name in ("timestamp", "stored"):
        if name in statement:
            parse_timestamp(statement[name], name)
    if "authority" in statement:
        validate_agent(statement["authority"], "authority")
        authority = statement["authority"]
        if authority.get("objectType") == "Group" and len(authority.get("member", [])) != 2:
            raise _fail("authority", "a group authority has exactly two agents (OAuth)")
    if "version" in statement and not (
        isinstance(statement["version"], str) and re.match(r"^1\.0(\.\d+)?$", statement["version"])
    ):
        raise _fail("version", "must be 1.0.x")
    if "attachments" in statement:
        _attachments(statement["attachments"])


def parse_agent_parameter(text: str, where: str = "agent") -> dict[str, Any]:
    """The ``agent`` query parameter: JSON of an Agent or identified Group."""
    try:
        agent = json.loads(text)
    except ValueError:
        raise _fail(where, "must be JSON") from None
    validate_agent(agent, where)
    if agent_key(agent) is None:
        raise _fail(where, "must be identified (mbox, mbox_sha1sum, openid or account)")
    return agent


# --- identities and the query index ----------------------------------------------------------


def agent_key(agent: Mapping[str, Any]) -> str | None:
    """The inverse functional identifier of an agent or identified group, as one string."""
    if "mbox" in agent:
        return "mbox:" + str(agent["mbox"]).lower()
    if "mbox_sha1sum" in agent:
        return "mbox_sha1sum:" + str(agent["mbox_sha1sum"]).lower()
    if "openid" in agent:
        return "openid:" + str(agent["openid"])
    if "account" in agent:
        account = agent["account"]
        return f"account:{account['homePage']}|{account['name']}"
    return None


def _agents_of(agent: Mapping[str, Any]) -> Iterator[str]:
    key = agent_key(agent)
    if key:
        yield key
    for member in agent.get("member", ()):
        member_key = agent_key(member)
        if member_key:
            yield member_key


def _context_activities(context: Mapping[str, Any]) -> Iterator[str]:
    for activities in context.get("contextActivities", {}).values():
        for activity in activities if isinstance(activities, list) else [activities]:
            yield activity["id"]


def statement_terms(statement: Mapping[str, Any]) -> dict[tuple[str, str], bool]:
    """What a statement is about, for queries: (kind, identifier) -> direct (actor or object)
    rather than related (context, authority, a sub-statement's parts)."""
    terms: dict[tuple[str, str], bool] = {}

    def add(kind: str, ident: str, direct: bool) -> None:
        terms[(kind, ident)] = terms.get((kind, ident), False) or direct

    for key in _agents_of(statement["actor"]):
        add("agent", key, True)
    target = statement["object"]
    kind = target.get("objectType", "Activity")
    if kind == "Activity":
        add("activity", target["id"], True)
    elif kind in ("Agent", "Group"):
        for key in _agents_of(target):
            add("agent", key, True)
    elif kind == "SubStatement":
        for (sub_kind, ident), _ in statement_terms(target).items():
            add(sub_kind, ident, False)
    context = statement.get("context", {})
    for name in ("instructor", "team"):
        if name in context:
            for key in _agents_of(context[name]):
                add("agent", key, False)
    for ident in _context_activities(context):
        add("activity", ident, False)
    if "authority" in statement:
        for key in _agents_of(statement["authority"]):
            add("agent", key, False)
    return terms


def activities_defined(statement: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """Every activity of a statement that carries a definition."""
    targets = [statement["object"]]
    if targets[0].get("objectType") == "SubStatement":
        targets = [targets[0]["object"]]
    for context in (statement.get("context", {}), statement["object"].get("context", {})):
        for activities in context.get("contextActivities", {}).values():
            targets.extend(activities if isinstance(activities, list) else [activities])
    for target in targets:
        if target.get("objectType", "Activity") == "Activity" and "definition" in target:
            yield target


# --- how statements are returned -------------------------------------------------------------


def _ids_only(value: Any) -> Any:
    if isinstance(value, dict):
        kind = value.get("objectType")
        if kind in ("Agent", "Group") or ("member" not in value and agent_key(value)):
            if agent_key(value):
                reduced = {
                    k: value[k]
                    for k in ("objectType", "mbox", "mbox_sha1sum", "openid", "account")
                    if k in value
                }
                return reduced
            return {**value, "member": [_ids_only(m) for m in value.get("member", [])]}
        if (kind in (None, "Activity")) and "id" in value and "definition" in value:
            return {"objectType": "Activity", "id": value["id"]}
        if set(value) == {"id", "display"}:  # a verb: its id only
            return {"id": value["id"]}
        return {k: (v if k == "extensions" else _ids_only(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_ids_only(v) for v in value]
    return value


def _canonical(value: Any, languages: list[str]) -> Any:
    """Language maps cut to the one language the reader prefers (else the first given)."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if (
                key in ("display", "name", "description")
                and isinstance(item, dict)
                and item
                and all(isinstance(v, str) for v in item.values())
            ):
                chosen = next((tag for tag in languages if tag in item), next(iter(item)))
                out[key] = {chosen: item[chosen]}
            elif key == "extensions":
                out[key] = item
            else:
                out[key] = _canonical(item, languages)
        return out
    if isinstance(value, list):
        return [_canonical(v, languages) for v in value]
    return value


def formatted(statement: dict[str, Any], form: str, languages: list[str]) -> dict[str, Any]:
    """A stored statement as the ``format`` parameter asks: exact, ids or canonical."""
    if form == "ids":
        return _ids_only(statement)
    if form == "canonical":
        return _canonical(statement, languages)
    return statement


def equivalent(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Whether two statements are the same for xAPI (ignoring what the store sets)."""
    ignore = {"stored", "authority", "version", "id"}

    def core(s: Mapping[str, Any]) -> Any:
        return {k: v for k, v in s.items() if k not in ignore}

    return json.dumps(core(a), sort_keys=True) == json.dumps(core(b), sort_keys=True)


# --- Learnway's attempts as statements, and statements as evidence ---------------------------


def statement_id_of_attempt(attempt_id: str) -> str:
    return str(uuid.uuid5(NAMESPACE, attempt_id))


def attempt_id_of_statement(statement_id: str) -> str:
    """The attempt id of evidence that came in as a statement: the statement id decides it."""
    return f"xapi:{statement_id.lower()}"


def attempt_statement(
    *,
    attempt_id: str,
    home_page: str,
    student: str,
    step_iri: str,
    step_name: str,
    competency_iris: list[str],
    correct: bool,
    timestamp: dt.datetime,
    score: float | None,
    hints_used: int,
    duration_s: float | None,
    response: str | None,
    authority: dict[str, Any],
) -> dict[str, Any]:
    """The ``answered`` statement of one Learnway attempt. The student is named only by their
    sourcedId under the school's account home page: no name, no email."""
    result: dict[str, Any] = {"success": correct, "completion": True}
    if score is not None:
        result["score"] = {"scaled": round(float(score), 6)}
    if response is not None:
        result["response"] = response
    if duration_s is not None:
        result["duration"] = f"PT{round(float(duration_s), 2)}S"
    context: dict[str, Any] = {
        "platform": "Learnway",
        "extensions": {HINTS: hints_used},
    }
    if competency_iris:
        context["contextActivities"] = {
            "parent": [
                {"objectType": "Activity", "id": iri,
                 "definition": {"type": "http://adlnet.gov/expapi/activities/objective"}}
                for iri in competency_iris
            ]
        }  # fmt: skip
    return {
        "id": statement_id_of_attempt(attempt_id),
        "actor": {"objectType": "Agent", "account": {"homePage": home_page, "name": student}},
        "verb": {"id": ANSWERED, "display": {"en-US": "answered"}},
        "object": {
            "objectType": "Activity",
            "id": step_iri,
            "definition": {
                "name": {"en-US": step_name},
                "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
            },
        },
        "result": result,
        "context": context,
        "timestamp": format_timestamp(timestamp),
        "authority": authority,
    }


def evidence(statement: Mapping[str, Any]) -> dict[str, Any] | None:
    """What a statement says about a learner's answer, if anything: correct, score (0 to 1),
    hints, duration and response; ``None`` for a statement that judges nothing (no success,
    no score, not passed or failed) or a voiding statement."""
    verb = statement["verb"]["id"]
    if verb == VOIDED or statement["object"].get("objectType", "Activity") != "Activity":
        return None
    result = statement.get("result", {})
    score = result.get("score", {})
    scaled: float | None = score.get("scaled")
    if scaled is None and "raw" in score and "min" in score and "max" in score:
        scaled = (score["raw"] - score["min"]) / (score["max"] - score["min"])
    correct: bool | None = result.get("success")
    if correct is None and verb.endswith("/passed"):
        correct = True
    elif correct is None and verb.endswith("/failed"):
        correct = False
    elif correct is None and scaled is not None:
        correct = scaled >= 0.5
    if correct is None:
        return None
    hints = statement.get("context", {}).get("extensions", {}).get(HINTS, 0)
    duration = result.get("duration")
    return {
        "correct": bool(correct),
        "score": None if scaled is None else min(1.0, max(0.0, float(scaled))),
        "hints_used": hints
        if isinstance(hints, int) and not isinstance(hints, bool) and hints >= 0
        else 0,
        "duration_s": duration_seconds(duration) if duration else None,
        "response": result.get("response"),
    }
