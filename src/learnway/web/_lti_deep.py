"""LTI Deep Linking 2.0: a teacher picks Learnway content and places it in the LMS course.

A deep linking request (a launch, :mod:`learnway.web._lti`) opens the picker. What it needs
later (platform, teacher, course, where to return, the platform's opaque ``data``) travels in a
signed, hour-long *ticket* in the picker's form, not in a cookie: the picker usually runs in
the LMS's frame, where browsers withhold Learnway's cookies. The teacher's choice becomes
``lti_links`` rows and an ``LtiDeepLinkingResponse`` JWT signed with Learnway's key, which the
browser posts back to the platform's ``deep_link_return_url``.

Each placement is an ``ltiResourceLink`` whose custom parameter ``learnway_link`` names the
row, with a line item (score out of 100) so that the platform makes a gradebook column for it:
the mastery of the placement's competencies is posted there (:mod:`learnway.web._lti_services`).
Competencies picked together make one placement; each activity picked makes its own, graded by
the competencies it is aligned to.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from learnway.store._schema import (
    Activity,
    ActivityAlignment,
    CompetencyRow,
    Course,
    Enrollment,
    Section,
    User,
)
from learnway.web._lti import CLAIM, DL_CLAIM, LINK_PARAMETER, DeepLinking, Launch
from learnway.web._lti_keys import sign
from learnway.web._lti_models import LtiLink
from learnway.web._models import LtiPlatform

TICKET_AGE_S = 3600
SCORE_MAXIMUM = 100
LINE_ITEM_TAG = "learnway-mastery"


class PickError(Exception):
    """A choice that cannot be placed, with the reason shown to the teacher."""


@dataclass(frozen=True)
class Choice:
    id: int
    title: str
    detail: str


@dataclass(frozen=True)
class Choices:
    competencies: list[Choice]
    activities: list[Choice]


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="learnway-lti-deep-linking")


def make_ticket(secret: str, launch: Launch, deployment_id: str) -> str:
    """The signed ticket that carries a deep linking request to the picker's answer."""
    settings = launch.deep_linking
    assert settings is not None and launch.context is not None
    return _serializer(secret).dumps(
        {
            "platform": launch.platform.id,
            "user": launch.user.id,
            "context": launch.context.id,
            "deployment": deployment_id,
            "return_url": settings.return_url,
            "multiple": settings.accept_multiple,
            "lineitem": settings.accept_lineitem,
            "data": settings.data,
        }
    )


def read_ticket(secret: str, ticket: str) -> dict[str, Any]:
    try:
        value = _serializer(secret).loads(ticket, max_age=TICKET_AGE_S)
    except BadSignature:
        raise PickError("This choice has expired or was altered: open the picker again.") from None
    assert isinstance(value, dict)
    return value


def frameworks_of(session: Session, user: User, section_id: int | None) -> list[int]:
    """The content the picker offers: the course's section's, else every course the teacher
    teaches."""
    query = select(Course.framework_id).join(Section, Section.course_id == Course.id)
    if section_id is not None:
        query = query.where(Section.id == section_id)
    else:
        query = query.join(Enrollment, Enrollment.section_id == Section.id).where(
            Enrollment.user_id == user.id, Enrollment.role == "teacher"
        )
    return sorted({f for f in session.scalars(query) if f is not None})


def choices(session: Session, frameworks: list[int]) -> Choices:
    """The competencies of ``frameworks`` in course order, and the activities aligned to them."""
    rows = session.execute(
        select(CompetencyRow.id, CompetencyRow.code, CompetencyRow.title, CompetencyRow.kind)
        .where(CompetencyRow.framework_id.in_(frameworks))
        .order_by(CompetencyRow.framework_id, CompetencyRow.sequence, CompetencyRow.id)
    ).all()
    competencies = [Choice(r.id, r.title, f"{r.kind} {r.code}") for r in rows]
    activity_rows = session.execute(
        select(Activity.id, Activity.title, Activity.kind)
        .join(ActivityAlignment, ActivityAlignment.activity_id == Activity.id)
        .where(ActivityAlignment.competency_id.in_([c.id for c in competencies]))
        .distinct()
        .order_by(Activity.title)
    ).all()
    return Choices(competencies, [Choice(r.id, r.title, r.kind) for r in activity_rows])


def place(
    session: Session,
    *,
    secret: str,
    ticket: str,
    competency_ids: list[int],
    activity_ids: list[int],
    title: str,
    launch_url: str,
) -> tuple[str, str, LtiPlatform]:
    """Store the placements picked; the deep linking response JWT, where to post it, and the
    platform. :class:`PickError` when the choice is empty, unknown or too large."""
    asked = read_ticket(secret, ticket)
    platform = session.get(LtiPlatform, asked["platform"])
    teacher = session.get(User, asked["user"])
    if platform is None or teacher is None or not teacher.enabled:
        raise PickError("The platform or the teacher of this choice is gone.")
    from learnway.web._lti_models import LtiContext

    context = session.get(LtiContext, asked["context"])
    if context is None:
        raise PickError("The course of this choice is gone.")
    offered = choices(session, frameworks_of(session, teacher, context.section_id))
    known_c = {c.id: c for c in offered.competencies}
    known_a = {a.id: a for a in offered.activities}
    unknown = [i for i in competency_ids if i not in known_c]
    unknown += [i for i in activity_ids if i not in known_a]
    if unknown:
        raise PickError(f"These choices are not offered in this course: {unknown}.")
    if not competency_ids and not activity_ids:
        raise PickError("Pick at least one competency or activity.")
    placements: list[LtiLink] = []
    now = dt.datetime.now(dt.UTC)
    if competency_ids:
        picked = [known_c[i] for i in dict.fromkeys(competency_ids)]
        more = f" (+{len(picked) - 1})" if len(picked) > 1 else ""
        placements.append(
            LtiLink(
                key=secrets.token_urlsafe(24), context_id=context.id,
                title=(title.strip() or f"Mastery: {picked[0].title}{more}")[:500],
                competency_ids=[c.id for c in picked], created_by_id=teacher.id, created_at=now,
            )
        )  # fmt: skip
    for activity_id in dict.fromkeys(activity_ids):
        placements.append(
            LtiLink(
                key=secrets.token_urlsafe(24), context_id=context.id,
                title=known_a[activity_id].title[:500], activity_id=activity_id,
                created_by_id=teacher.id, created_at=now,
            )
        )  # fmt: skip
    if len(placements) > 1 and not asked["multiple"]:
        raise PickError(
            "This place in the course takes one item: pick competencies or one activity."
        )
    session.add_all(placements)
    session.flush()
    items = [_content_item(link, launch_url, asked.get("lineitem", True)) for link in placements]
    claims: dict[str, Any] = {
        "iss": platform.client_id,
        "aud": platform.issuer,
        "azp": platform.client_id,
        "iat": now,
        "exp": now + dt.timedelta(minutes=5),
        "nonce": secrets.token_urlsafe(16),
        CLAIM + "message_type": "LtiDeepLinkingResponse",
        CLAIM + "version": "1.3.0",
        CLAIM + "deployment_id": asked["deployment"],
        DL_CLAIM + "content_items": items,
        DL_CLAIM + "msg": f"Placed {len(items)} Learnway item{'s' if len(items) > 1 else ''}.",
    }
    if asked.get("data") is not None:
        claims[DL_CLAIM + "data"] = asked["data"]
    return sign(session, claims), asked["return_url"], platform


def _content_item(link: LtiLink, launch_url: str, with_line_item: bool) -> dict[str, Any]:
    """An ``ltiResourceLink`` for the placement; with a line item unless the platform said it
    takes none (the grades then find or make one through the line items service)."""
    item: dict[str, Any] = {
        "type": "ltiResourceLink",
        "title": link.title,
        "text": "Mastery in Learnway, as a score out of 100.",
        "url": launch_url,
        "custom": {LINK_PARAMETER: link.key},
    }
    if with_line_item:
        item["lineItem"] = {
            "scoreMaximum": SCORE_MAXIMUM,
            "label": link.title,
            "resourceId": link.key,
            "tag": LINE_ITEM_TAG,
        }
    return item


__all__ = ["DeepLinking", "PickError", "choices", "make_ticket", "place"]
