"""Standard formats in and out: OneRoster rosters (CSV bundles) and CASE frameworks (JSON) in,
Ed-Fi-shaped mastery (XML interchanges) out."""

from learnway.interop._case import read_case
from learnway.interop._edfi import edfi_interchanges
from learnway.interop._oneroster import Roster, read_oneroster

__all__ = ["Roster", "edfi_interchanges", "read_case", "read_oneroster"]
