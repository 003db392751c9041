"""Import limits: each hostile input of the hardening issue, reproduced, refused with a clear
problem, quickly and at low memory (a 50 MB CSV value ended in a ``_csv.Error`` traceback; a
410 KB zip expanding to 400 MB was read for 101 s at 2.7 GB; members with ``../`` or absolute
paths were imported by their base name; a 200,000-deep JSON document ended in a
``RecursionError``: the last is in tests/interop/test_case.py)."""

from __future__ import annotations

import csv
import re
import time
import tracemalloc
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from learnway import InputError
from learnway._limits import Limits, json_depth, load_json
from learnway.interop import read_oneroster
from learnway.interop._oneroster import COLUMNS

USERS = ",".join(COLUMNS["1.1"]["users"])


@contextmanager
def _bounded(seconds: float, megabytes: int) -> Iterator[None]:
    """Fails unless the block ends within ``seconds`` and allocates at most ``megabytes``."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        yield
    finally:
        took = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    assert took < seconds and peak < megabytes, (f"{took:.1f} s", f"{peak:.0f} MB")


def _manifest() -> str:
    rows = [("propertyName", "value"), ("manifest.version", "1.0"), ("oneroster.version", "1.1")]
    rows += [(f"file.{name}", "bulk" if name == "users" else "absent") for name in COLUMNS["1.1"]]
    return "\r\n".join(",".join(row) for row in rows) + "\r\n"


def test_a_50_mb_csv_value_is_one_problem_naming_its_line(tmp_path: Path) -> None:
    folder = tmp_path / "b"
    folder.mkdir()
    (folder / "manifest.csv").write_text(_manifest())
    with (folder / "users.csv").open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(USERS.split(","))
        writer.writerow(["u1", "active", "", "true", "s", "student", "u1", "", "A", "B"] + [""] * 8)
        writer.writerow(["u2", "active", "", "true", "s", "student", "x" * 50_000_000] + [""] * 11)
    with pytest.raises(InputError) as refused:
        read_oneroster(folder)
    assert [str(p) for p in refused.value.problems] == [
        "b/users.csv: line 3: a value longer than 100,000 characters; the rest of the file is "
        "not read"
    ]


def test_a_file_with_more_rows_than_the_limit_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "b"
    folder.mkdir()
    (folder / "manifest.csv").write_text(_manifest())
    rows = [f"u{n},active,,true,s,student,u{n},,A,B,,,,,,,," for n in range(12)]
    (folder / "users.csv").write_text("\r\n".join([USERS, *rows]) + "\r\n")
    assert len(read_oneroster(folder).users) == 12
    with pytest.raises(InputError) as refused:  # the manifest's 10 rows are within the limit
        read_oneroster(folder, limits=Limits(max_rows=10))
    assert [str(p) for p in refused.value.problems] == [
        "b/users.csv: line 12: more than 10 rows; the rest is not read"
    ]


def _bomb(path: Path, expanded: int) -> Path:
    """A bundle whose users.csv expands from a few hundred KB to ``expanded`` bytes."""
    block = b"0" * 2**20
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("manifest.csv", _manifest())
        with archive.open("users.csv", "w", force_zip64=True) as member:
            member.write(USERS.encode() + b"\r\n")
            for _ in range(expanded // len(block)):
                member.write(block)
    return path


def test_a_zip_bomb_is_refused_before_anything_is_expanded(tmp_path: Path) -> None:
    bomb = _bomb(tmp_path / "bomb.zip", 400 * 2**20)
    assert bomb.stat().st_size < 500_000  # about 410 KB
    with _bounded(seconds=2, megabytes=16), pytest.raises(InputError) as refused:
        read_oneroster(bomb)
    found = [str(p) for p in refused.value.problems]
    assert len(found) == 1
    assert re.fullmatch(r"bomb.zip: users.csv: expands [\d,]+ times \(at most 100\): a zip bomb",
                        found[0]), found  # fmt: skip
    with _bounded(seconds=2, megabytes=16), pytest.raises(InputError, match="in all"):
        read_oneroster(bomb, limits=Limits(max_ratio=10**6, max_expanded=100 * 2**20))


@pytest.mark.parametrize("name", ["../users.csv", "/etc/users.csv", "a/../../users.csv"])
def test_members_outside_the_archive_are_refused(tmp_path: Path, name: str) -> None:
    path = tmp_path / "escape.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("manifest.csv", _manifest())
        archive.writestr(zipfile.ZipInfo(name), USERS + "\r\n")
    with pytest.raises(InputError) as refused:
        read_oneroster(path)
    assert [str(p) for p in refused.value.problems] == [
        f"escape.zip: {name}: a member outside the archive's folder (an absolute path or ..): "
        "refused"
    ]


def test_a_bundle_in_a_folder_of_the_zip_reads_but_two_files_of_one_name_do_not(
    tmp_path: Path,
) -> None:
    path = tmp_path / "nested.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("export/manifest.csv", _manifest())
        archive.writestr("export/users.csv", USERS + "\r\nu1,active,,true,s,student,u1,,A,B\r\n")
    assert [u.sourced_id for u in read_oneroster(path).users] == ["u1"]
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("other/users.csv", USERS + "\r\n")
    with pytest.raises(InputError, match=r"other/users.csv: a second users.csv"):
        read_oneroster(path)


def test_a_folder_file_over_the_size_limit_is_refused_unread(tmp_path: Path) -> None:
    folder = tmp_path / "b"
    folder.mkdir()
    (folder / "manifest.csv").write_text(_manifest())
    (folder / "users.csv").write_text(USERS + "\r\n" + "x" * 5000)
    with pytest.raises(InputError, match=r"b: users.csv: holds 5,1\d\d bytes \(at most 4,096\)"):
        read_oneroster(folder, limits=Limits(max_file=4096))


def test_json_depth_is_counted_without_parsing() -> None:
    assert json_depth('{"a": [1, {"b": "[[[{{{"}], "c": "\\"]"}') == 3
    assert json_depth("7") == 0
    with pytest.raises(InputError, match=r"x.json: nests 65 levels deep \(at most 64\)"):
        load_json("[" * 65 + "]" * 65, "x.json")
    assert load_json("[" * 64 + "]" * 64, "x.json") is not None
