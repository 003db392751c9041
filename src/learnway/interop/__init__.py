"""Standard formats in and out: OneRoster rosters (CSV bundles) in and out, CASE frameworks
(JSON) in, Ed-Fi-shaped mastery (XML interchanges) out."""

from learnway.interop._case import read_case
from learnway.interop._edfi import edfi_interchanges
from learnway.interop._oneroster import Roster, read_oneroster
from learnway.interop._oneroster_write import oneroster_files

__all__ = ["Roster", "edfi_interchanges", "oneroster_files", "read_case", "read_oneroster"]
