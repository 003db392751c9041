"""Forms that never dead-end: errors in plain words next to their field, what was typed kept,
and competencies chosen by title, code or unit instead of an internal code."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from fastapi import HTTPException
from pydantic import BaseModel, ValidationError

from learnway.web._catalog import Catalog

M = TypeVar("M", bound=BaseModel)


class FormError(Exception):
    """What is wrong with a submitted form: a plain message per field."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = dict(errors)


def plain_message(error: Mapping[str, Any]) -> str:
    """One pydantic error in words a person reads (never the validator's own text)."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind == "missing" or (kind == "string_too_short" and ctx.get("min_length") == 1):
        return "Please fill this in."
    if kind == "too_short":
        return "Choose at least one." if ctx.get("min_length") == 1 else (
            f"Choose at least {ctx.get('min_length')}."
        )  # fmt: skip
    if kind == "too_long":
        return f"Choose at most {ctx.get('max_length')}."
    if kind == "string_too_short":
        return f"Write at least {ctx.get('min_length')} characters."
    if kind == "string_too_long":
        return f"Keep it to {ctx.get('max_length')} characters or fewer."
    if kind.startswith("date"):
        return "Enter a date, like 2026-12-01."
    if kind.startswith(("int", "greater_than", "less_than")):
        return "Choose one from the list."
    if kind in ("literal_error", "enum"):
        return "Choose one of the options."
    if kind == "value_error":  # a model's own check: its message is written for people
        text = str(error.get("msg", "")).removeprefix("Value error, ").strip()
        text = text.split(": ", 1)[-1]  # "response: an answer needs ..." names its field
        return (text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")) if text else (
            "Please check this."
        )  # fmt: skip
    return "Please check this."


def parse_form(model: type[M], data: Mapping[str, Any]) -> M:
    """``model`` from form data; a :class:`FormError` naming each field in plain words."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for e in exc.errors():
            loc = [str(p) for p in e.get("loc", ()) if not isinstance(p, int)]
            errors.setdefault(loc[0] if loc else "form", plain_message(e))
        raise FormError(errors) from exc


def competency_choices(catalog: Catalog) -> list[tuple[str, str, str]]:
    """(code, title, unit title) of every competency of a course, in course order."""
    unit_title = {u.code: u.title for u in catalog.units}
    return [
        (code, title, unit_title.get(unit, ""))
        for code, title, unit in zip(catalog.codes, catalog.titles, catalog.unit_of, strict=True)
    ]


def resolve_competency(catalog: Catalog, text: str | None, *, field: str = "competency") -> str:
    """The code of the competency a person chose: its title (as the picker offers it), its code,
    or words that match exactly one title. Otherwise a :class:`FormError` with suggestions."""
    typed = (text or "").strip()
    if not typed:
        raise FormError({field: "Choose a competency from the list."})
    if typed in catalog.index:
        return typed
    folded = typed.casefold()
    exact = [
        c for c, t in zip(catalog.codes, catalog.titles, strict=True) if t.casefold() == folded
    ]
    if len(exact) == 1:
        return exact[0]
    words = folded.split()
    matches = [
        (c, t)
        for c, t in zip(catalog.codes, catalog.titles, strict=True)
        if all(w in t.casefold() for w in words)
    ]
    if len(matches) == 1:
        return matches[0][0]
    if matches:
        shown = "; ".join(t for _, t in matches[:4])
        more = f" and {len(matches) - 4} more" if len(matches) > 4 else ""
        raise FormError(
            {field: f"“{typed}” matches {len(matches)} competencies ({shown}{more}); "
                    "choose one from the list."}
        )  # fmt: skip
    raise FormError({field: f"No competency matches “{typed}”. Type part of its title and "
                            "choose one from the list."})  # fmt: skip


def parse_plain(model: type[M], data: Mapping[str, Any]) -> M:
    """``model`` from form data; a 422 in plain words (field and what to do) when it does not
    fit, for forms whose page shows the message above the form."""
    try:
        return parse_form(model, data)
    except FormError as exc:
        parts = [
            text if name == "form" else f"{name.replace('_', ' ').capitalize()}: {text}"
            for name, text in exc.errors.items()
        ]
        raise HTTPException(422, " ".join(parts)) from exc
