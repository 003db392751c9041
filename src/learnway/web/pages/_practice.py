"""Practice pages: one item, step by step, with hints on request and feedback at once."""

from __future__ import annotations

import re
import uuid
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from learnway.store._schema import ItemRow, StepRow, User
from learnway.web._accommodations import Accommodations, accommodations_of, reduce_choices
from learnway.web._deps import ContextDep, FormDep, Id, SessionDep, Student
from learnway.web._forms import parse_plain
from learnway.web._learning import framework_of, recommendation_list
from learnway.web._practice import hints_view, item_for_competency, item_view, step_of
from learnway.web._schemas import AnswerIn, AnswerOut, ItemOut, RecommendationOut
from learnway.web.api import _practice as api
from learnway.web.pages._render import render

router = APIRouter()


COMMANDS = {"cdot": "·", "times": "×", "div": "÷", "le": "≤", "leq": "≤", "ge": "≥", "geq": "≥",
            "ne": "≠", "neq": "≠", "pi": "π", "sqrt": "√", "pm": "±"}  # fmt: skip


def plain_text(text: str) -> str:
    """Math written in LaTeX as plain text, for a browser tab: ``$$\\frac{1}{2}$$`` is 1/2."""
    out = text.replace("$$", "").replace(r"\%", "%").replace(r"\$", "$")
    out = re.sub(r"\\frac\{([^{}]*)\}\{([^{}]*)\}", r"\1/\2", out)
    out = re.sub(r"\\([a-zA-Z]+)", lambda m: COMMANDS.get(m.group(1), ""), out)
    out = out.replace("{", "").replace("}", "")
    return re.sub(r"\s+", " ", out).strip()


def page_title(item: ItemOut) -> str:
    """The page's title: the competency practised (the item's own title is often generic)."""
    names = item.competencies[:2]
    if not names:
        return f"Practice: {plain_text(item.title)}"
    more = f" and {len(item.competencies) - 2} more" if len(item.competencies) > 2 else ""
    return f"Practice: {plain_text(' and '.join(names))}{more}"


def _next_problem(
    session: SessionDep, context: ContextDep, student: User, item: ItemOut
) -> RecommendationOut | None:
    """The planner's next pick after this problem, with its reason."""
    for rec in recommendation_list(session, context, student):
        if rec.item != item.key:
            return rec
    return None


def _page(
    request: Request,
    session: SessionDep,
    item: ItemOut,
    *,
    step_id: Id | None,
    hints: int,
    result: AnswerOut | None = None,
    response: str = "",
    error: str | None = None,
    status_code: int = 200,
    context: ContextDep | None = None,
    student: User | None = None,
) -> HTMLResponse:
    ids = [s.id for s in item.steps]
    current = step_id if step_id in ids else ids[0] if ids else None
    if current is None:
        raise HTTPException(404, f"Item {item.key} has no steps.")
    viewer = getattr(request.state, "viewer", None)
    shown = hints_view(
        session, step_id=current, shown=hints, student_id=viewer.id if viewer else None
    )
    helps = accommodations_of(session, viewer.id) if viewer else Accommodations()
    if helps.reduced_choices:
        answers = session.scalar(select(StepRow.answers).where(StepRow.id == current)) or []
        item = item.model_copy(
            update={
                "steps": [
                    s.model_copy(
                        update={"choices": reduce_choices(s.choices, [str(a) for a in answers])}
                    )
                    if s.id == current and s.choices
                    else s
                    for s in item.steps
                ]
            }
        )
    following = None
    if (
        result is not None and result.correct and result.next_step is None
        and context is not None and student is not None
    ):  # fmt: skip
        following = _next_problem(session, context, student, item)
    return render(
        request, "practice.html", title=page_title(item), item=item,
        current=current, position=ids.index(current), hints=shown, result=result,
        response=response, error=error, attempt_id=f"web-{uuid.uuid4().hex}",
        status_code=status_code, helps=helps, following=following,
        spoken={c: plain_text(c) for step in item.steps for c in step.choices},
    )  # fmt: skip


@router.get("/practice/competency/{code:path}")
def practice_competency(code: str, user: Student, session: SessionDep) -> Response:
    key = item_for_competency(
        session, student=user, code=code, framework_id=framework_of(session, user)
    )
    return RedirectResponse(f"/practice/{key}", 303)


@router.get("/practice/{item_key}", response_class=HTMLResponse)
def practice_page(
    request: Request,
    item_key: str,
    user: Student,
    session: SessionDep,
    step: Annotated[int | None, Query()] = None,
    hints: Annotated[int, Query(ge=0, le=50)] = 0,
) -> HTMLResponse:
    item = item_view(session, item_key)
    return _page(request, session, item, step_id=step, hints=hints)


@router.post("/practice/steps/{step_id}/answer", response_class=HTMLResponse)
def answer_step(
    request: Request,
    step_id: Id,
    user: Student,
    session: SessionDep,
    context: ContextDep,
    form: FormDep,
) -> HTMLResponse:
    step = step_of(session, step_id)
    item_key = session.scalar(select(ItemRow.key).where(ItemRow.id == step.item_id))
    item = item_view(session, item_key or "")
    hints_text = str(form.get("hints_used", "0"))
    hints = min(int(hints_text), 50) if hints_text.isdigit() else 0
    raw = str(form.get("response", ""))
    try:
        answer = parse_plain(
            AnswerIn,
            {"response": raw, "hints_used": hints, "attempt_id": form.get("attempt_id") or None},
        )
        result = api.answer_attempt(session, context, user=user, step_id=step_id, answer=answer)
    except HTTPException as exc:
        # Nothing was stored: the answer is refused before the attempt is written.
        return _page(
            request, session, item, step_id=step_id, hints=hints, response=raw[:200],
            error=str(exc.detail), status_code=exc.status_code,
        )  # fmt: skip
    return _page(
        request, session, item, step_id=step_id, hints=hints, result=result, response=raw,
        context=context, student=user,
    )  # fmt: skip
