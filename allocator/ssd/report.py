"""What an import read, used, defaulted and worked around: told to the person running it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ImportReport:
    """The account of one import, printed by the CLI and kept for tests.

    Attributes
    ----------
    counts
        What was read and used, by a phrase (``"children with an open episode"``).
    defaults
        ``(table, field, how) -> rows``: every field a mapping rule or default filled
        instead of the source, and how many rows each touched.
    warnings
        Problems the import worked around, one sentence each, naming table and row.
    involvements
        For ``import ssd``: each case's open involvement its worker was read from,
        by case id (:class:`allocator.ssd.ssd_import.CurrentInvolvement`).
    """

    counts: dict[str, int] = field(default_factory=dict)
    defaults: dict[tuple[str, str, str], int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    involvements: dict[str, Any] = field(default_factory=dict)

    def count(self, what: str, n: int = 1) -> None:
        """Add ``n`` to the count of ``what``."""
        self.counts[what] = self.counts.get(what, 0) + n

    def defaulted(self, table: str, name: str, how: str) -> None:
        """Record that one row of ``table`` took ``name`` from ``how``, not the source."""
        key = (table, name, how)
        self.defaults[key] = self.defaults.get(key, 0) + 1

    def lines(self) -> list[str]:
        """The report as lines of text: counts, then defaults, then warnings."""
        out = [f"{n:>7,}  {what}" for what, n in self.counts.items()]
        if self.defaults:
            out.append("defaulted (not in the source):")
            for (table, name, how), n in sorted(self.defaults.items()):
                out.append(f"  {table}.{name}: {how} for {n:,} row{'s' if n != 1 else ''}")
        if self.warnings:
            out.append(f"warnings ({len(self.warnings)}):")
            out.extend(f"  {w}" for w in self.warnings)
        return out
