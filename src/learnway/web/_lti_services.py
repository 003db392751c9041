"""LTI Advantage services: grades back to the LMS (AGS 2.0) and its rosters (NRPS 2.0).

**Grades.** Each deep-linked placement (``lti_links``) is graded by its students' mastery of
its competencies: the mean of their ``mastery.p_mastery`` (a competency not yet practised counts
0), as a score out of 100. :func:`queue_scores` compares every score with the one last queued
and, where it changed, sets the student's row of the outbox ``lti_scores`` pending.
:func:`send_scores` posts the pending rows to the line item's ``/scores`` endpoint; a failure
is kept on the row and retried later, waiting twice as long each time (1 minute to 12 hours),
and the row is marked ``failed`` after :data:`MAX_ATTEMPTS`. A placement whose launch named no
line item gets one from the course's line items service (found by its ``resourceId``, or made).
:func:`sync_grades` does both; the background worker and ``learnway lti-sync`` call it.

**Rosters.** :func:`sync_roster` reads the context's membership (NRPS) and makes it a section
of Learnway: people are matched on ``lis_person_sourcedid`` or on an earlier sync's link, and
made when new (in the platform's school); instructors become teachers and learners students
of the section; members that left are unenrolled. A context whose section comes from the
OneRoster feed is left to that feed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from learnway.store import live_versions, transaction
from learnway.store._schema import (
    ActivityAlignment,
    Course,
    Enrollment,
    Mastery,
    Org,
    Section,
    User,
)
from learnway.web._lti import context_role, link_account
from learnway.web._lti_deep import LINE_ITEM_TAG, SCORE_MAXIMUM
from learnway.web._lti_keys import ServiceError, access_token, ensure_signing_key, http_json
from learnway.web._lti_models import LtiAccount, LtiContext, LtiLink, LtiScore
from learnway.web._models import LtiPlatform

SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
LINEITEM_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
MEMBERSHIP_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
SCORE_TYPE = "application/vnd.ims.lis.v1.score+json"
LINEITEM_TYPE = "application/vnd.ims.lis.v2.lineitem+json"
LINEITEMS_TYPE = "application/vnd.ims.lis.v2.lineitemcontainer+json"
MEMBERS_TYPE = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"
MAX_ATTEMPTS = 10
FIRST_WAIT = dt.timedelta(minutes=1)
LONGEST_WAIT = dt.timedelta(hours=12)
LTI_PREFIX = "lti-"  # sourcedIds of what a roster sync makes
MAX_PAGES = 1000
log = logging.getLogger(__name__)


@dataclass
class GradeReport:
    queued: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class RosterReport:
    contexts: int = 0
    skipped: int = 0
    people_made: int = 0
    enrolled: int = 0
    unenrolled: int = 0
    errors: list[str] = field(default_factory=list)


# --- grades -------------------------------------------------------------------------------


def _competencies(session: Session, link: LtiLink) -> list[int]:
    if link.competency_ids:
        return [int(c) for c in link.competency_ids]
    return list(
        session.scalars(
            select(ActivityAlignment.competency_id).where(
                ActivityAlignment.activity_id == link.activity_id
            )
        )
    )


def link_scores(session: Session, link: LtiLink, context: LtiContext) -> dict[int, float]:
    """Each graded student's score (0-100) on ``link``: the students of the context's section
    whom the platform knows (an account from a launch or a roster sync)."""
    if context.section_id is None:
        return {}
    students = list(
        session.scalars(
            select(Enrollment.user_id)
            .join(LtiAccount, LtiAccount.user_id == Enrollment.user_id)
            .where(
                Enrollment.section_id == context.section_id,
                Enrollment.role == "student",
                LtiAccount.platform_id == context.platform_id,
            )
            .distinct()
        )
    )
    competencies = _competencies(session, link)
    if not students or not competencies:
        return {}
    belief: dict[tuple[int, int], float] = {}  # the newest live model version's, per pair
    for student, competency, p in session.execute(
        select(Mastery.student_id, Mastery.competency_id, Mastery.p_mastery)
        .where(
            Mastery.student_id.in_(students),
            Mastery.competency_id.in_(competencies),
            Mastery.model_version.in_(live_versions(session)),
        )
        .order_by(Mastery.model_version)
    ):
        belief[student, competency] = p
    totals: dict[int, float] = defaultdict(float)
    for (student, _), p in belief.items():
        totals[student] += p
    return {s: round(100.0 * totals[s] / len(competencies), 2) for s in students}


def queue_scores(session: Session, *, now: dt.datetime | None = None) -> int:
    """Set pending every placement's score that changed since it was last queued; how many."""
    now = now or dt.datetime.now(dt.UTC)
    changed = 0
    rows = session.execute(select(LtiLink, LtiContext).join(LtiContext)).all()
    for link, context in rows:
        if link.lineitem_url is None and context.lineitems_url is None:
            continue  # nowhere to post yet: the placement has not been launched
        outbox = {
            r.user_id: r
            for r in session.scalars(select(LtiScore).where(LtiScore.link_id == link.id))
        }
        for student, score in link_scores(session, link, context).items():
            row = outbox.get(student)
            if row is not None and row.score == score:
                continue
            if row is None:
                row = LtiScore(link_id=link.id, user_id=student)
                session.add(row)
            row.score, row.status, row.attempts = score, "pending", 0
            row.next_try_at, row.updated_at, row.last_error = now, now, None
            changed += 1
    session.flush()
    return changed


def _service_url(url: str, suffix: str) -> str:
    """``suffix`` added to the path of a line item URL, keeping its query (AGS 2.0, 3.3)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + suffix))


def _timestamp(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _line_item(session: Session, link: LtiLink, context: LtiContext, token: str) -> str:
    """The line item of a placement whose launch named none: found by resourceId, or made."""
    assert context.lineitems_url is not None
    headers = {"Authorization": f"Bearer {token}", "Accept": LINEITEMS_TYPE}
    separator = "&" if "?" in context.lineitems_url else "?"
    query = urlencode({"resource_id": link.key})
    found = http_json(f"{context.lineitems_url}{separator}{query}", headers=headers).body
    for item in found if isinstance(found, list) else []:
        if isinstance(item, dict) and item.get("resourceId") == link.key and item.get("id"):
            link.lineitem_url = str(item["id"])
            return link.lineitem_url
    body = {"scoreMaximum": SCORE_MAXIMUM, "label": link.title, "resourceId": link.key,
            "tag": LINE_ITEM_TAG}  # fmt: skip
    if link.resource_link_id:
        body["resourceLinkId"] = link.resource_link_id
    made = http_json(
        context.lineitems_url,
        method="POST",
        body=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": LINEITEM_TYPE,
                 "Accept": LINEITEM_TYPE},
    ).body  # fmt: skip
    if not isinstance(made, dict) or not made.get("id"):
        raise ServiceError(f"{context.lineitems_url} made a line item without an id.")
    link.lineitem_url = str(made["id"])
    return link.lineitem_url


def send_scores(
    session: Session, *, now: dt.datetime | None = None, limit: int = 1000
) -> GradeReport:
    """Post the pending scores that are due; failures wait and are retried later."""
    now = now or dt.datetime.now(dt.UTC)
    report = GradeReport()
    query = (
        select(LtiScore, LtiLink, LtiContext, LtiPlatform, LtiAccount.sub)
        .join(LtiLink, LtiLink.id == LtiScore.link_id)
        .join(LtiContext, LtiContext.id == LtiLink.context_id)
        .join(LtiPlatform, LtiPlatform.id == LtiContext.platform_id)
        .join(
            LtiAccount,
            (LtiAccount.user_id == LtiScore.user_id) & (LtiAccount.platform_id == LtiPlatform.id),
        )
        .where(LtiScore.status == "pending", LtiScore.next_try_at <= now)
        .order_by(LtiScore.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        # several workers: each claims its rows (and their links, whose line item it may
        # make); SQLite serializes writers
        query = query.with_for_update(skip_locked=True, of=(LtiScore, LtiLink))
    due = session.execute(query).all()
    tokens: dict[tuple[int, bool], str] = {}
    done: set[int] = set()
    for row, link, context, platform, sub in due:
        if row.id in done:  # a student with two accounts on the platform: the first is used
            continue
        done.add(row.id)
        try:
            needs_item = link.lineitem_url is None
            scopes = [SCORE_SCOPE, LINEITEM_SCOPE] if needs_item else [SCORE_SCOPE]
            key = (platform.id, needs_item)
            if key not in tokens:
                tokens[key] = access_token(session, platform, scopes)
            item = link.lineitem_url or _line_item(session, link, context, tokens[key])
            score = {
                "userId": sub,
                "scoreGiven": row.score,
                "scoreMaximum": SCORE_MAXIMUM,
                "comment": "Mastery in Learnway",
                "timestamp": _timestamp(now),
                "activityProgress": "Completed" if row.score >= 100 else "InProgress",
                "gradingProgress": "FullyGraded",
            }
            http_json(
                _service_url(item, "/scores"),
                method="POST",
                body=json.dumps(score).encode(),
                headers={"Authorization": f"Bearer {tokens[key]}", "Content-Type": SCORE_TYPE},
            )
        except ServiceError as error:
            row.attempts += 1
            row.last_error = str(error)[:2000]
            if row.attempts >= MAX_ATTEMPTS:
                row.status = "failed"
                report.failed += 1
            else:
                row.next_try_at = now + min(FIRST_WAIT * 2 ** (row.attempts - 1), LONGEST_WAIT)
                report.retrying += 1
            report.errors.append(str(error))
            log.warning("score of user %s on link %s not sent (try %s): %s",
                        row.user_id, link.id, row.attempts, error)  # fmt: skip
            continue
        row.status, row.sent_at, row.last_error = "sent", now, None
        report.sent += 1
    session.flush()
    return report


def sync_grades(engine: Engine, *, now: dt.datetime | None = None) -> GradeReport:
    """Queue the scores that changed and post those due, each step in its own transaction:
    what the background worker and ``learnway lti-sync`` run."""
    now = now or dt.datetime.now(dt.UTC)
    with transaction(engine) as session:
        if session.scalar(select(LtiLink.id).limit(1)) is None:
            return GradeReport()  # nothing placed in any LMS: nothing to do
    ensure_signing_key(engine)
    with transaction(engine) as session:
        queued = queue_scores(session, now=now)
    with transaction(engine) as session:
        report = send_scores(session, now=now)
    report.queued = queued
    if queued or report.sent or report.retrying or report.failed:
        log.info("LTI grades: %s changed, %s sent, %s to retry, %s failed", queued,
                 report.sent, report.retrying, report.failed)  # fmt: skip
    return report


# --- rosters ------------------------------------------------------------------------------


def _members(session: Session, platform: LtiPlatform, url: str) -> list[dict[str, Any]]:
    token = access_token(session, platform, [MEMBERSHIP_SCOPE])
    headers = {"Authorization": f"Bearer {token}", "Accept": MEMBERS_TYPE}
    members: list[dict[str, Any]] = []
    next_url: str | None = url
    for _ in range(MAX_PAGES):
        if next_url is None:
            break
        answer = http_json(next_url, headers=headers)
        page = answer.body.get("members") if isinstance(answer.body, dict) else None
        if not isinstance(page, list):
            raise ServiceError(f"{next_url} answered no members list.")
        members.extend(m for m in page if isinstance(m, dict) and m.get("user_id"))
        found = re.search(r'<([^>]+)>\s*;\s*rel="?next"?', answer.headers.get("link", ""))
        next_url = found.group(1) if found else None
    return members


def _short(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:20]


def _school(session: Session, platform: LtiPlatform) -> int:
    if platform.school_id is not None:
        return platform.school_id
    schools = list(session.scalars(select(Org.id).where(Org.type == "school").limit(2)))
    if len(schools) != 1:
        raise ServiceError(
            f"The platform {platform.issuer} names no school for the people a roster sync "
            "makes, and the database does not hold exactly one: register it with --school."
        )
    return schools[0]


def _section(session: Session, context: LtiContext, school_id: int) -> Section:
    if context.section_id is not None:
        found = session.get(Section, context.section_id)
        assert found is not None
        return found
    key = f"{LTI_PREFIX}{context.platform_id}-{_short(context.context_id)}"
    course = session.scalar(select(Course).where(Course.sourced_id == key))
    if course is None:
        course = Course(sourced_id=key, title=context.title[:255], org_id=school_id)
        session.add(course)
        session.flush()
    section = Section(
        sourced_id=key, title=context.title[:255], course_id=course.id, school_id=school_id
    )
    session.add(section)
    session.flush()
    context.section_id = section.id
    return section


def _person(
    session: Session, platform: LtiPlatform, member: dict[str, Any], role: str, school_id: int
) -> tuple[User, bool]:
    sub = str(member["user_id"])
    sourced = member.get("lis_person_sourcedid")
    user = None
    if sourced:
        user = session.scalar(select(User).where(User.sourced_id == str(sourced)))
    if user is None:
        user = session.scalar(
            select(User)
            .join(LtiAccount, LtiAccount.user_id == User.id)
            .where(LtiAccount.platform_id == platform.id, LtiAccount.sub == sub)
        )
    made = user is None
    if user is None:
        name = str(member.get("name") or "").split()
        user = User(
            sourced_id=str(sourced) if sourced else f"{LTI_PREFIX}{platform.id}-{_short(sub)}",
            username=f"{LTI_PREFIX}{platform.id}-{_short(sub)}",
            given_name=str(member.get("given_name") or (name[0] if name else "?"))[:255],
            family_name=str(member.get("family_name") or " ".join(name[1:]) or "?")[:255],
            email=(str(member["email"])[:320] if member.get("email") else None),
            role=role,
            org_id=school_id,
        )
        session.add(user)
        session.flush()
    link_account(session, platform_id=platform.id, sub=sub, user_id=user.id)
    return user, made


def sync_roster(session: Session, context: LtiContext, report: RosterReport) -> None:
    """Make the context's membership a Learnway section (see the module's docstring)."""
    platform = session.get(LtiPlatform, context.platform_id)
    assert platform is not None and context.memberships_url is not None
    if context.section_id is not None:
        section = session.get(Section, context.section_id)
        if section is not None and not section.sourced_id.startswith(LTI_PREFIX):
            report.skipped += 1  # the OneRoster feed holds this class
            return
    members = _members(session, platform, context.memberships_url)
    school_id = _school(session, platform)
    section = _section(session, context, school_id)
    enrolled = {
        e.user_id: e
        for e in session.scalars(select(Enrollment).where(Enrollment.section_id == section.id))
    }
    present: set[int] = set()
    for member in members:
        role = context_role(member.get("roles"))
        if role is None or str(member.get("status") or "Active") != "Active":
            continue
        user, made = _person(session, platform, member, role, school_id)
        report.people_made += made
        if user.role not in ("teacher", "student"):
            continue  # the roster's role decides: an administrator is not enrolled
        role = user.role  # never more than the roster says
        present.add(user.id)
        if user.id not in enrolled:
            session.add(
                Enrollment(
                    sourced_id=f"{LTI_PREFIX}{section.id}-{user.id}", section_id=section.id,
                    user_id=user.id, role=role,
                )
            )  # fmt: skip
            report.enrolled += 1
    gone = [uid for uid in enrolled if uid not in present]
    if gone:
        session.execute(
            delete(Enrollment).where(
                Enrollment.section_id == section.id, Enrollment.user_id.in_(gone)
            )
        )
        report.unenrolled += len(gone)
    context.synced_at = dt.datetime.now(dt.UTC)
    report.contexts += 1
    session.flush()


def sync_rosters(engine: Engine) -> RosterReport:
    """Sync every context whose launches announced a membership service, each in a
    transaction of its own (a context that fails leaves the others synced)."""
    report = RosterReport()
    with transaction(engine) as session:
        contexts = list(
            session.scalars(
                select(LtiContext.id)
                .where(LtiContext.memberships_url.is_not(None))
                .order_by(LtiContext.id)
            )
        )
    if contexts:
        ensure_signing_key(engine)
    for context_id in contexts:
        try:
            with transaction(engine) as session:
                context = session.get(LtiContext, context_id)
                assert context is not None
                sync_roster(session, context, report)
        except ServiceError as error:
            report.errors.append(f"context {context_id}: {error}")
            log.warning("roster of LTI context %s not synced: %s", context_id, error)
    if contexts:
        log.info("LTI rosters: %s synced, %s left to OneRoster, %s people made, %s enrolled, "
                 "%s unenrolled", report.contexts, report.skipped, report.people_made,
                 report.enrolled, report.unenrolled)  # fmt: skip
    return report
