"""Read a OneRoster 1.1 or 1.2 CSV bundle (a zip file or a folder) into validated records.

Learnway reads the files that carry what it stores: ``orgs``, ``academicSessions``,
``courses``, ``classes``, ``users`` (with ``roles`` in 1.2), ``enrollments`` and
``demographics``; the others (results, resources, line items, user profiles) are not read.
``manifest.csv`` names the version and how each file is provided: ``bulk`` (the whole truth
about what it holds), ``delta`` (changes since the last export) or ``absent``.

Every problem in the bundle is collected, each with its file, line and record, before one
:class:`~learnway.InputError` is raised: a missing required column or value, a value outside the
standard's vocabulary, a date that is neither ISO 8601 nor in the ``date_format`` given, a
repeated sourcedId. References between records are checked when they are written
(:func:`learnway.store.save_roster`), where records already in the database can resolve them too.

Real exports differ from the standard in harmless ways, and each such tolerance is reported as
a warning (``Roster.warnings``) rather than a refusal: ``ext_*`` and ``metadata.*`` columns,
and columns OneRoster does not define, are kept as each record's extension data; optional
columns may be missing; a 1.0-style bundle without ``manifest.csv`` is read as bulk files, and
1.0 column names (``userId``, ``schoolYearId``, ``grade``, ``agents``) and the 1.0 status
``inactive`` are read; short rows are padded; an org of another type (a department) that classes
or people name as their school is read as a school. ``strict=True`` refuses all of these
instead. What the writing tolerates is said in :func:`learnway.store.save_roster`.

OneRoster roles map onto Learnway's: ``student``; ``teacher`` and ``aide`` (teacher, enrolled as
an aide); ``parent``, ``guardian`` and ``relative`` (guardian); ``administrator`` (1.1; school or
district administrator by the type of its org), ``principal`` and ``siteAdministrator`` (school
administrator), ``districtAdministrator`` (district administrator). Users holding only other
roles (proctor, counselor, system administrator) get no access and are left out, as are orgs
that are neither a district nor a school, and records whose status is ``tobedeleted``; the
roster's ``skipped`` list says which. Passwords in the bundle are never read.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from learnway._errors import InputError, Problem
from learnway._limits import DEFAULT_LIMITS, Limits, csv_rows, folder_files, zip_members
from learnway.interop._oneroster_records import (
    COLUMNS,
    DEFAULTED,
    DEMOGRAPHIC_FLAGS,
    ENROLLMENT_ROLES,
    EXTENSION,
    GUARDIAN_ROLES,
    LIMITS,
    NO_ACCESS_ROLES,
    OLD_NAMES,
    ORG_TYPES,
    REQUIRED,
    ROLE_MAP,
    SESSION_TYPES,
    ClassRecord,
    CourseRecord,
    DemographicsRecord,
    EnrollmentRecord,
    OrgRecord,
    Roster,
    SessionRecord,
    UserRecord,
)

log = logging.getLogger(__name__)
_DATE_HINT = (
    "; if the bundle writes dates another way, say how with a date format (for example "
    "--date-format %m/%d/%Y)"
)
STATUS_1_0 = "inactive"  # OneRoster 1.0: a person or enrollment no longer current
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")


Row = dict[str, str]


class _Reader:
    """Collects problems and warnings while turning the rows of one bundle into records."""

    def __init__(
        self,
        files: dict[str, bytes],
        origin: str,
        *,
        strict: bool,
        date_format: str | None,
        limits: Limits,
    ) -> None:
        self.files = files
        self.origin = origin
        self.strict = strict
        self.date_format = date_format
        self.limits = limits
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.version = ""
        self.extra: dict[str, tuple[str, ...]] = {}  # extension columns, by file and by table

    def problem(self, name: str, record: str, message: str) -> None:
        self.problems.append(Problem(f"{self.origin}/{name}", record, message))

    def warn(self, name: str, record: str, message: str) -> None:
        self.warnings.append(Problem(f"{self.origin}/{name}", record, message))

    def manifest(self) -> tuple[str, dict[str, str]]:
        rows = self.rows("manifest.csv", ("propertyName", "value"), ("propertyName", "value"))
        properties = {row["propertyName"]: row["value"] for _, row in rows}
        version = properties.get("oneroster.version", "")
        if version == "1.0" and not self.strict:
            self.warn("manifest.csv", "oneroster.version", "1.0, read as 1.1 (its column "
                      "names and statuses are read too)")  # fmt: skip
            version = "1.1"
        elif version not in COLUMNS:
            self.problem(
                "manifest.csv",
                "oneroster.version",
                f"version {version or '(missing)'} is not supported (1.1 or 1.2)",
            )
        modes = {
            key.removeprefix("file."): value
            for key, value in properties.items()
            if key.startswith("file.")
        }
        return version, modes

    def rows(
        self, name: str, columns: tuple[str, ...], required: tuple[str, ...]
    ) -> Iterator[tuple[str, Row]]:
        """``(record, row)`` for every data row, ``record`` naming the line and sourcedId.
        Every column of ``columns`` is in ``row`` (empty where the file lacks it), and so is
        every extension column the file has."""
        try:
            text = self.files[name].decode("utf-8-sig")
        except UnicodeDecodeError as error:
            self.problem(name, "", f"is not UTF-8 ({error.reason} at byte {error.start})")
            return
        if "\x00" in text:
            line = text[: text.index("\x00")].count("\n") + 1
            self.problem(name, f"line {line}", "holds a NUL character")
            return
        problems: list[Problem] = []
        lines = csv_rows(text, f"{self.origin}/{name}", problems, self.limits)
        header = self._header(name, next(lines, (1, []))[1], columns, required)
        padded = 0
        absent = [c for c in columns if header is not None and c not in header]
        self.extra[name] = tuple(h for h in header or () if h not in columns)
        for line, values in lines:
            if header is None:
                break
            if not "".join(values).strip():
                continue
            extra = values[len(header) :]
            if len(values) != len(header) and (self.strict or any(v.strip() for v in extra)):
                self.problem(
                    name, f"line {line}", f"{len(values)} values for {len(header)} columns"
                )
                continue
            if len(values) < len(header):
                padded += 1
                values = values + [""] * (len(header) - len(values))
            row = dict(zip(header, map(str.strip, values), strict=False))
            for column in absent:
                row[column] = ""
            yield f"line {line} ({row.get('sourcedId') or row.get(columns[0], '')})", row
        self.problems.extend(problems)
        if padded:
            self.warn(name, "", f"{padded} line(s) have fewer values than columns: the "
                      "missing values read as empty")  # fmt: skip

    def _header(
        self, name: str, found: list[str], columns: tuple[str, ...], required: tuple[str, ...]
    ) -> list[str] | None:
        """The file's column names, 1.0 names read as today's; ``None`` if it is refused."""
        header = [h.strip() for h in found]
        while header and not header[-1] and not self.strict:
            header.pop()  # trailing separators in the header line
        if len(header) < len(found):
            self.warn(name, "header", f"{len(found) - len(header)} unnamed column(s) at the "
                      "end: left out")  # fmt: skip
        if not self.strict:
            for position, column in enumerate(header):
                new = OLD_NAMES.get(column)
                if new and new in columns and column not in columns and new not in header:
                    header[position] = new
                    self.warn(name, "header", f"column {column} (OneRoster 1.0) read as {new}")
        unnamed = [str(n + 1) for n, h in enumerate(header) if not h]
        repeated = sorted({h for h in header if h and header.count(h) > 1})
        missing = [c for c in columns if c not in header]
        unknown = [h for h in header if h and h not in columns and not EXTENSION.match(h)]
        if self.strict:  # as before tolerance: metadata.* columns only
            unknown = [h for h in header if h and h not in columns]
            unknown = [h for h in unknown if not h.startswith("metadata.")]
            refused = missing
        else:
            refused = [c for c in missing if c in required or c == "sourcedId"]
            refused = [c for c in refused if c not in DEFAULTED]
            optional = [c for c in missing if c not in refused]
            if optional:
                self.warn(name, "header", f"optional column(s) missing: {', '.join(optional)}")
            if unknown:
                shown = ", ".join(repr(h) for h in unknown)
                self.warn(name, "header", f"column(s) not in OneRoster {self.version}: {shown}; "
                          "kept as extension data")  # fmt: skip
            vendor = [h for h in header if h.startswith("ext_") and h not in columns]
            if vendor:
                shown = ", ".join(vendor)
                self.warn(name, "header", f"vendor extension column(s) {shown} (OneRoster "
                          "names extensions metadata.*): kept as extension data")  # fmt: skip
            unknown = []
        if refused:
            self.problem(name, "header", f"missing column(s): {', '.join(refused)}")
        if unknown:
            shown = ", ".join(repr(h) for h in unknown)
            self.problem(name, "header", f"column(s) not in OneRoster: {shown}")
        if unnamed:
            self.problem(name, "header", f"column(s) without a name: {', '.join(unnamed)}")
        if repeated:
            self.problem(name, "header", f"column(s) named twice: {', '.join(repeated)}")
        if refused or unknown or unnamed or repeated:
            return None
        return header

    def date(self, name: str, record: str, column: str, value: str) -> dt.date | None:
        """An ISO 8601 date, or one in ``date_format``; a problem (and ``None``) otherwise."""
        if not value:
            return None
        if _DATE.match(value):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        if self.date_format:
            try:
                return dt.datetime.strptime(value, self.date_format).date()
            except ValueError:
                self.problem(name, record, f"{column} {value!r} is neither a date (YYYY-MM-DD) "
                             f"nor in the date format {self.date_format!r}")  # fmt: skip
                return None
        self.problem(name, record, f"{column} {value!r} is not a date (YYYY-MM-DD){_DATE_HINT}")
        return None

    def stamp(self, name: str, record: str, value: str) -> bool:
        """Whether ``value`` is a dateLastModified: ISO 8601, or a date in ``date_format``."""
        if not value or _DATETIME.match(value):
            return True
        if self.date_format:
            try:
                dt.datetime.strptime(value, self.date_format)
                return True
            except ValueError:
                pass
        if self.date_format:
            self.problem(name, record, f"dateLastModified {value!r} is neither an ISO 8601 date "
                         f"nor in the date format {self.date_format!r}")  # fmt: skip
        else:
            self.problem(name, record, f"dateLastModified {value!r} is not an ISO 8601 date"
                         f"{_DATE_HINT}")  # fmt: skip
        return False


def read_oneroster(
    path: str | Path,
    *,
    strict: bool = False,
    date_format: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
    progress: Callable[[str, int, int], None] | None = None,
) -> Roster:
    """Read and validate a OneRoster CSV bundle (a ``.zip`` file or a folder).

    ``strict`` refuses what is otherwise tolerated with a warning (see the module's
    docstring); ``date_format`` (a :func:`~datetime.datetime.strptime` format such as
    ``%m/%d/%Y``) reads dates that are not ISO 8601; ``limits`` bounds what is read;
    ``progress(file, done, total)`` is called as each file is read.
    """
    source = Path(path)
    files = _files(source, limits)
    reader = _Reader(files, source.name, strict=strict, date_format=date_format, limits=limits)
    if "manifest.csv" in files:
        version, modes = reader.manifest()
    elif strict or not any(_filename(files, name) for name in COLUMNS["1.2"]):
        raise InputError.one(source.name, "", "no manifest.csv: not a OneRoster CSV bundle")
    else:
        version = "1.2" if _filename(files, "roles") else "1.1"
        modes = {name: "bulk" for name in COLUMNS[version] if _filename(files, name)}
        reader.warn("manifest.csv", "", f"missing (a OneRoster 1.0-style bundle): read as "
                    f"OneRoster {version}, every file present as a bulk file")  # fmt: skip
    if reader.problems:
        raise InputError(reader.problems)
    reader.version = version
    roster = Roster(
        title=f"OneRoster {version} bundle {source.name}", version=version, strict=strict
    )
    wanted = ["orgs", "academicSessions", "courses", "classes", "users", "enrollments"]
    wanted += ["demographics"] + (["roles"] if version == "1.2" else [])
    tables: dict[str, list[tuple[str, Row]]] = {}
    for done, name in enumerate(wanted):
        if progress is not None:
            progress(f"{name}.csv", done, len(wanted))
        mode = modes.get(name, "absent") or "absent"
        filename = _filename(files, name)
        if mode in ("bulk", "delta") and filename is None:
            reader.problem(
                "manifest.csv", f"file.{name}", f"says {mode}, but {name}.csv is missing"
            )
        elif mode in ("bulk", "delta") and filename is not None:
            tables[name] = _checked(reader, filename, COLUMNS[version][name], REQUIRED[name])
            reader.extra[name] = reader.extra.get(filename, ())
            log.info("read %s: %d rows", filename, len(tables[name]))
            if mode == "delta":
                roster.delta.add(name)
        elif mode != "absent":
            reader.problem("manifest.csv", f"file.{name}", f"unknown mode {mode!r}")
        if name not in tables:
            roster.absent.add(name)
    _orgs(reader, roster, tables.get("orgs", []))
    _sessions(reader, roster, tables.get("academicSessions", []))
    _courses(reader, roster, tables.get("courses", []))
    _classes(reader, roster, tables.get("classes", []))
    _users(reader, roster, tables.get("users", []), tables.get("roles"))
    _enrollments(reader, roster, tables.get("enrollments", []))
    if not strict:
        _orgs_named_as_schools(reader, roster, tables.get("orgs", []))
    _demographics(reader, roster, tables.get("demographics", []))
    if reader.problems:
        log.info("refused %s: %d problem(s)", source.name, len(reader.problems))
        raise InputError(reader.problems)
    roster.warnings = reader.warnings
    for warning in reader.warnings:
        log.info("tolerated in %s", warning)
    log.info(
        "read %s: %d orgs, %d terms, %d courses, %d classes, %d people, %d enrollments; "
        "%d left out, %d tolerance(s)", source.name, len(roster.orgs), len(roster.sessions),
        len(roster.courses), len(roster.classes), len(roster.users), len(roster.enrollments),
        len(roster.skipped), len(roster.warnings),
    )  # fmt: skip
    return roster


def _files(source: Path, limits: Limits) -> dict[str, bytes]:
    if source.is_dir():
        return folder_files(source, ".csv", limits)
    if not source.exists():
        raise InputError.one(str(source), "", "no such file or folder")
    return zip_members(source, ".csv", limits)


def _filename(files: dict[str, bytes], name: str) -> str | None:
    """The file for ``name``: exactly ``name.csv``, else the same name in other letter case."""
    wanted = f"{name}.csv"
    if wanted in files:
        return wanted
    return next((f for f in files if f.lower() == wanted.lower()), None)


def _checked(
    reader: _Reader, name: str, columns: tuple[str, ...], required: tuple[str, ...]
) -> list[tuple[str, Row]]:
    """The rows of one file with the checks every OneRoster file shares."""
    seen: dict[str, str] = {}
    out = []
    inactive = 0
    limited = [(c, LIMITS[c]) for c in columns if c in LIMITS]
    for record, row in reader.rows(name, columns, required):
        bad = False
        key = row["sourcedId"]
        if not key:
            reader.problem(name, record, "sourcedId is empty")
            bad = True
        elif key in seen:
            reader.problem(name, record, f"sourcedId {key} repeats {seen[key]}")
            bad = True
        seen.setdefault(key, record)
        status = row["status"]
        if status == STATUS_1_0 and not reader.strict:
            inactive += 1
            status = row["status"] = "tobedeleted" if name.lower() in _ENDS_WITH_INACTIVE else ""
        if status not in ("", "active", "tobedeleted"):
            reader.problem(name, record, f"status {status!r} is not active or tobedeleted")
            bad = True
        stamp = row["dateLastModified"]
        if stamp and not _DATETIME.match(stamp) and not reader.stamp(name, record, stamp):
            bad = True
        long = [c for c, limit in limited if len(row[c]) > limit]
        if long:
            what = ", ".join(f"{c} (at most {LIMITS[c]} characters)" for c in long)
            reader.problem(name, record, f"too long: {what}")
            bad = True
        if status != "tobedeleted":
            empty = [c for c in required if not row[c] and (reader.strict or c not in DEFAULTED)]
            if empty:
                reader.problem(name, record, f"required value(s) empty: {', '.join(empty)}")
                bad = True
        if not bad:
            out.append((record, row))
    if inactive:
        what = "ended (as tobedeleted)" if name.lower() in _ENDS_WITH_INACTIVE else "read as active"
        reader.warn(name, "", f"{inactive} record(s) with the OneRoster 1.0 status 'inactive': "
                    f"{what}")  # fmt: skip
    return out


# Files whose 1.0 ``inactive`` records end (a person disabled, an enrollment removed); in the
# others (orgs, terms, courses, classes, never deleted by an import) they are read as active.
_ENDS_WITH_INACTIVE = {"users.csv", "enrollments.csv", "roles.csv"}


def _extensions(reader: _Reader, table: str, row: Row) -> dict[str, str]:
    """The row's values in the columns of its file that OneRoster does not define there
    (``ext_*``, ``metadata.*`` and others): the record's extension data."""
    extra = reader.extra.get(table)
    return {c: row[c] for c in extra if row[c]} if extra else {}


def _date(reader: _Reader, name: str, record: str, row: Row, column: str) -> dt.date | None:
    return reader.date(name, record, column, row[column])


def _flag(reader: _Reader, name: str, record: str, value: str, column: str) -> bool | None:
    lowered = value.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if value:
        reader.problem(name, record, f"{column} {value!r} is not true or false")
    return None


def _live(roster: Roster, name: str, rows: list[tuple[str, Row]]) -> list[tuple[str, Row]]:
    """The active rows; the ``tobedeleted`` ones are noted in ``roster.removed``."""
    removed = [row["sourcedId"] for _, row in rows if row.get("status") == "tobedeleted"]
    if removed:
        roster.removed[name] = removed
    return [(record, row) for record, row in rows if row.get("status") != "tobedeleted"]


def _list(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def _user_ids(value: str) -> tuple[tuple[str, str], ...]:
    """``{LDAP:12},{LTI:15}`` (1.1 and 1.2) or a bare identifier (1.0's ``userId``) as
    ``(type, identifier)`` pairs; a bare identifier has the type ``""``."""
    if not value:
        return ()
    out = []
    for part in re.findall(r"\{[^{}]*\}|[^,{}]+", value):
        inner = part.strip().strip("{}").strip()
        if inner:
            kind, _, identifier = inner.partition(":") if ":" in inner else ("", "", inner)
            out.append((kind.strip(), identifier.strip()))
    return tuple(dict.fromkeys(out))


def _orgs(reader: _Reader, roster: Roster, rows: list[tuple[str, Row]]) -> None:
    for record, row in _live(roster, "orgs", rows):
        kind = row["type"]
        if kind not in ORG_TYPES:
            reader.problem("orgs.csv", record, f"type {kind!r} is not a OneRoster org type")
        elif kind not in ("district", "school"):
            roster.skipped.append(("org", row["sourcedId"], f"a {kind}, not a school or district"))
        else:
            roster.orgs.append(
                OrgRecord(
                    row["sourcedId"], row["name"], kind, row["identifier"] or None,
                    row["parentSourcedId"] or None,
                    _extensions(reader, "orgs", row),
                )
            )  # fmt: skip


def _orgs_named_as_schools(reader: _Reader, roster: Roster, rows: list[tuple[str, Row]]) -> None:
    """An org of another type (a department, say) that the bundle's classes or people name as
    their school is read as a school: real exports whose only org is a department mean it as
    the school, and leaving it out would leave every class and person without one."""
    named = {c.school for c in roster.classes} | {u.org for u in roster.users}
    others = {row["sourcedId"]: row for _, row in rows if row["sourcedId"] in named}
    kept = []
    for kind, sourced_id, why in roster.skipped:
        row = others.get(sourced_id) if kind == "org" else None
        if row is None:
            kept.append((kind, sourced_id, why))
            continue
        roster.orgs.append(
            OrgRecord(
                sourced_id, row["name"], "school", row["identifier"] or None,
                row["parentSourcedId"] or None, _extensions(reader, "orgs", row),
            )
        )  # fmt: skip
        reader.warn("orgs.csv", sourced_id, f"a {row['type']} that classes or people name as "
                    "their school: read as a school")  # fmt: skip
    roster.skipped[:] = kept


def _sessions(reader: _Reader, roster: Roster, rows: list[tuple[str, Row]]) -> None:
    name = "academicSessions.csv"
    for record, row in _live(roster, "academicSessions", rows):
        kind = row["type"]
        start = _date(reader, name, record, row, "startDate")
        end = _date(reader, name, record, row, "endDate")
        year = row["schoolYear"]
        if not year and end and not reader.strict:
            year = str(end.year)
            reader.warn(name, record, f"schoolYear empty: read as {year}, the year of its endDate")
        if kind not in SESSION_TYPES:
            reader.problem(name, record, f"type {kind!r} is not a OneRoster session type")
        elif not re.fullmatch(r"\d{4}", year):
            reader.problem(name, record, f"schoolYear {year!r} is not a year (YYYY)")
        elif start and end and end < start:
            reader.problem(name, record, f"endDate {end} is before startDate {start}")
        elif start and end:
            roster.sessions.append(
                SessionRecord(
                    row["sourcedId"], row["title"], kind, start, end, int(year),
                    row["parentSourcedId"] or None,
                    _extensions(reader, "academicSessions", row),
                )
            )  # fmt: skip


def _courses(reader: _Reader, roster: Roster, rows: list[tuple[str, Row]]) -> None:
    for _, row in _live(roster, "courses", rows):
        roster.courses.append(
            CourseRecord(
                row["sourcedId"],
                row["title"],
                row["courseCode"] or None,
                row["orgSourcedId"],
                _extensions(reader, "courses", row),
            )
        )


def _classes(reader: _Reader, roster: Roster, rows: list[tuple[str, Row]]) -> None:
    for _, row in _live(roster, "classes", rows):
        roster.classes.append(
            ClassRecord(
                row["sourcedId"], row["title"], row["classCode"] or None, row["courseSourcedId"],
                row["schoolSourcedId"], _list(row["termSourcedIds"])[0],
                _extensions(reader, "classes", row),
            )
        )  # fmt: skip


def _users(
    reader: _Reader,
    roster: Roster,
    rows: list[tuple[str, Row]],
    roles: list[tuple[str, Row]] | None,
) -> None:
    """Users with their role and org: from ``users.csv`` in 1.1, from ``roles.csv`` in 1.2
    (the primary role; the primaryOrgSourcedId or else the role's org)."""
    primary: dict[str, tuple[str, str]] = {}
    if roles is not None:
        for record, row in _live(roster, "roles", roles):
            if row["roleType"] not in ("primary", "secondary"):
                reader.problem("roles.csv", record, f"roleType {row['roleType']!r} is not "
                               "primary or secondary")  # fmt: skip
            elif row["roleType"] == "primary" or row["userSourcedId"] not in primary:
                primary[row["userSourcedId"]] = (row["role"], row["orgSourcedId"])
    for record, row in _live(roster, "users", rows):
        user = row["sourcedId"]
        if roster.version == "1.1":
            role, orgs = row["role"], _list(row["orgSourcedIds"])
            org = orgs[0] if orgs else ""
        elif user in primary:
            role, org = primary[user]
            org = row["primaryOrgSourcedId"] or org
        else:
            reader.problem("users.csv", record, "has no role in roles.csv")
            continue
        enabled = _flag(reader, "users.csv", record, row["enabledUser"], "enabledUser")
        if role in NO_ACCESS_ROLES:
            roster.skipped.append(("user", user, f"role {role} has no access in Learnway"))
            continue
        if role not in ROLE_MAP and role != "administrator":
            reader.problem("users.csv", record, f"role {role!r} is not a OneRoster role")
            continue
        if not org:
            reader.problem("users.csv", record, "belongs to no org")
            continue
        grades = _list(row["grades"])
        user_ids = _user_ids(row["userIds"])
        if any(len(kind) > 255 or len(value) > 255 for kind, value in user_ids):
            reader.problem("users.csv", record, "too long: a userIds entry (at most 255 "
                           "characters each side of the colon)")  # fmt: skip
            continue
        roster.users.append(
            UserRecord(
                sourced_id=user,
                username=row["username"],
                given_name=row["givenName"],
                family_name=row["familyName"],
                email=row["email"] or None,
                role=ROLE_MAP.get(role, role),
                org=org,
                grade=grades[0][:8] if grades else None,
                enabled=enabled is not False,
                agents=tuple(_list(row["agentSourcedIds"])),
                guardian_relation=role if role in GUARDIAN_ROLES else None,
                identifier=row["identifier"] or None,
                user_ids=user_ids,
                extensions=_extensions(reader, "users", row),
            )
        )


def _enrollments(reader: _Reader, roster: Roster, rows: list[tuple[str, Row]]) -> None:
    name = "enrollments.csv"
    for record, row in _live(roster, "enrollments", rows):
        role = row["role"]
        begin = _date(reader, name, record, row, "beginDate")
        end = _date(reader, name, record, row, "endDate")
        primary = _flag(reader, name, record, row["primary"], "primary")
        if role not in ENROLLMENT_ROLES:
            reader.problem(name, record, f"role {role!r} is not a OneRoster enrollment role")
        elif role not in ("student", "teacher", "aide"):
            roster.skipped.append(("enrollment", row["sourcedId"], f"a {role} is not enrolled"))
        else:
            roster.enrollments.append(
                EnrollmentRecord(
                    row["sourcedId"], row["classSourcedId"], row["userSourcedId"], role,
                    bool(primary), begin, end,
                    _extensions(reader, "enrollments", row),
                )
            )  # fmt: skip


def _demographics(reader: _Reader, roster: Roster, rows: list[tuple[str, Row]]) -> None:
    name = "demographics.csv"
    for record, row in _live(roster, "demographics", rows):
        flags = {c: _flag(reader, name, record, row[c], c) for c in DEMOGRAPHIC_FLAGS}
        roster.demographics.append(
            DemographicsRecord(
                user=row["sourcedId"],
                birth_date=_date(reader, name, record, row, "birthDate"),
                sex=row["sex"] or None,
                flags=flags,
                country_of_birth_code=row["countryOfBirthCode"] or None,
                state_of_birth_abbreviation=row["stateOfBirthAbbreviation"] or None,
                city_of_birth=row["cityOfBirth"] or None,
                public_school_residence_status=row["publicSchoolResidenceStatus"] or None,
                extensions=_extensions(reader, "demographics", row),
            )
        )
