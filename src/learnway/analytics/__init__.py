"""Analytics: pure functions over arrays and mappings that turn stored evidence into the
figures leaders and researchers read. The store feeds them; the web and the CLI show them."""

from learnway.analytics._reports import (
    MIN_CELL,
    GroupFigure,
    group_figures,
    members,
    suppressed,
)

__all__ = ["MIN_CELL", "GroupFigure", "group_figures", "members", "suppressed"]
