"""Limits on what an import reads, checked before the work they bound: a zip archive's members
(names, expanded size, compression ratio) before any is expanded, a CSV file's fields and rows
while it is read, a JSON document's nesting before it is parsed.

Each breach is an :class:`~learnway.InputError` that names the file, the place and the limit,
never a traceback from the library underneath (``_csv.Error``, ``RecursionError``) and never a
read that runs for minutes or fills the memory.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from learnway._errors import InputError, Problem

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


@dataclass(frozen=True)
class Limits:
    """How much one import may read. The defaults hold a district of 100,000 students with
    room to spare (its OneRoster bundle expands to about 120 MB at a ratio of 6)."""

    max_field: int = 100_000
    """Characters in one CSV value (the longest value Learnway stores is 1,024)."""
    max_rows: int = 5_000_000
    """Data rows in one CSV file."""
    max_file: int = 1 << 30
    """Bytes in one file of a folder, or one member of a zip once expanded."""
    max_expanded: int = 2 << 30
    """Bytes of every member of a zip together, once expanded."""
    max_ratio: int = 100
    """Expanded size over compressed size of one zip member (text compresses 5 to 20 times;
    a zip bomb hundreds to millions of times)."""
    max_members: int = 10_000
    """Members in one zip."""
    max_depth: int = 64
    """Nesting of arrays and objects in a JSON document (a CASE package nests 4 deep)."""


DEFAULT_LIMITS = Limits()


def zip_members(path: Path, suffix: str, limits: Limits = DEFAULT_LIMITS) -> dict[str, bytes]:
    """The members of the zip at ``path`` whose names end in ``suffix``, by base name.

    Every member's name and declared sizes are checked before any is expanded: no absolute
    path, no ``..``, no two members of the same base name, the size and ratio limits; then
    each is expanded with its declared size as a hard limit.
    """
    origin = path.name
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        raise InputError.one(origin, "", "not a zip file or a folder") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_members:
            raise InputError.one(origin, "", f"holds {len(infos):,} members (at most "
                                 f"{limits.max_members:,})")  # fmt: skip
        problems: list[Problem] = []
        wanted: dict[str, zipfile.ZipInfo] = {}
        total = 0
        for info in infos:
            name = info.filename
            parts = PurePosixPath(name.replace("\\", "/")).parts
            if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or ".." in parts:
                problems.append(Problem(origin, name, "a member outside the archive's folder "
                                        "(an absolute path or ..): refused"))  # fmt: skip
                continue
            if info.is_dir() or not name.lower().endswith(suffix):
                continue
            total += info.file_size
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > limits.max_file:
                problems.append(Problem(origin, name, f"expands to {info.file_size:,} bytes "
                                        f"(at most {limits.max_file:,})"))  # fmt: skip
            elif info.file_size > 1 << 20 and ratio > limits.max_ratio:
                why = f"expands {ratio:,.0f} times (at most {limits.max_ratio}): a zip bomb"
                problems.append(Problem(origin, name, why))
            base = parts[-1]
            if base in wanted:
                problems.append(Problem(origin, name, f"a second {base} (also "
                                        f"{wanted[base].filename})"))  # fmt: skip
            wanted[base] = info
        if total > limits.max_expanded:
            problems.append(Problem(origin, "", f"expands to {total:,} bytes in all (at most "
                                    f"{limits.max_expanded:,})"))  # fmt: skip
        if problems:
            raise InputError(problems)
        out = {}
        for base, info in wanted.items():
            with archive.open(info) as member:
                data = member.read(info.file_size + 1)
            if len(data) > info.file_size:
                raise InputError.one(origin, info.filename, "larger than its declared size")
            out[base] = data
        return out


def folder_files(folder: Path, suffix: str, limits: Limits = DEFAULT_LIMITS) -> dict[str, bytes]:
    """The files of ``folder`` whose names end in ``suffix``, by name, within the size limits."""
    paths = [p for p in folder.iterdir() if p.is_file() and p.name.lower().endswith(suffix)]
    problems = [
        Problem(folder.name, p.name, f"holds {p.stat().st_size:,} bytes (at most "
                f"{limits.max_file:,})")
        for p in paths
        if p.stat().st_size > limits.max_file
    ]  # fmt: skip
    total = sum(p.stat().st_size for p in paths)
    if total > limits.max_expanded:
        problems.append(Problem(folder.name, "", f"holds {total:,} bytes of {suffix} files "
                                f"(at most {limits.max_expanded:,})"))  # fmt: skip
    if problems:
        raise InputError(problems)
    return {p.name: p.read_bytes() for p in paths}


def csv_rows(
    text: str, origin: str, problems: list[Problem], limits: Limits = DEFAULT_LIMITS
) -> Iterator[tuple[int, list[str]]]:
    """``(line, values)`` for every row of a CSV text, the header first. A value or a file
    beyond the limits ends the file with one problem in ``problems`` naming its line."""
    # The csv module's own limit (131,072 unless raised) is process-wide: it is raised only
    # for a higher limit than the default, and a value past ours is refused here by its line.
    if csv.field_size_limit() < limits.max_field + 1:
        csv.field_size_limit(limits.max_field + 1)
    reader = csv.reader(io.StringIO(text, newline=""))
    count = 0
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            why = (
                f"a value longer than {limits.max_field:,} characters"
                if "field limit" in str(error)
                else f"not CSV ({error})"
            )
            problems.append(Problem(origin, f"line {reader.line_num}", f"{why}; the rest of "
                                    "the file is not read"))  # fmt: skip
            return
        longest = max(map(len, values), default=0)
        if longest > limits.max_field:
            problems.append(Problem(origin, f"line {reader.line_num}", f"a value of "
                                    f"{longest:,} characters (at most {limits.max_field:,}); "
                                    "the rest of the file is not read"))  # fmt: skip
            return
        if count > limits.max_rows:
            problems.append(Problem(origin, f"line {reader.line_num}", f"more than "
                                    f"{limits.max_rows:,} rows; the rest is not read"))  # fmt: skip
            return
        count += 1
        yield reader.line_num, values


def json_depth(text: str) -> int:
    """How deep arrays and objects nest in a JSON text, counted without parsing it (strings
    removed, then a running sum over the brackets), so a hostile depth costs no recursion."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    if not brackets:
        return 0
    codes = np.frombuffer(brackets.encode("ascii"), dtype=np.uint8)
    steps = np.where((codes == ord("[")) | (codes == ord("{")), 1, -1)
    return int(np.cumsum(steps).max())


def load_json(text: str, origin: str, limits: Limits = DEFAULT_LIMITS) -> Any:
    """Parse a JSON text whose nesting is within ``limits.max_depth``."""
    depth = json_depth(text)
    if depth > limits.max_depth:
        raise InputError.one(origin, "", f"nests {depth:,} levels deep (at most "
                             f"{limits.max_depth}): not read")  # fmt: skip
    try:
        return json.loads(text)
    except (json.JSONDecodeError, RecursionError) as error:
        raise InputError.one(origin, "", f"not a JSON file: {error}") from None
