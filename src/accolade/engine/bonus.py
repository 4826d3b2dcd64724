"""Variable rewards: an action's weighted table of bonus points, drawn deterministically.

A draw is a pure function of the program version (content hash and number), the event id and
the action key, so replay and the re-evaluation after a reversal draw what ingestion drew.
The tables are the program's (``program.bonus``, built by ``program.compile``).
"""

from __future__ import annotations

import hashlib
import json
from bisect import bisect_right

from accolade.engine.effects import Entry, EntryKind
from accolade.program.bonus import BonusTable


def roll(table: BonusTable, program_hash: str, version: int, event_id: str) -> int:
    """The draw, in ``range(table.total)``: sha256 of the JSON array
    ``["bonus", program_hash, version, event_id, action_key]`` as a big-endian integer, modulo
    the total weight (the bias of a 256-bit modulo is nil for any total the loader allows)."""
    seed = json.dumps(
        ["bonus", program_hash, version, event_id, table.action],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    digest = hashlib.sha256(seed.encode("utf-8")).digest()
    return int.from_bytes(digest, "big") % table.total


def draw_bonus(table: BonusTable, program_hash: str, version: int, event_id: str) -> Entry | None:
    """The ``bonus`` ledger entry an action's reward draws; None when it draws 0 points."""
    drawn = roll(table, program_hash, version, event_id)
    i = bisect_right(table.cumulative, drawn)
    points = table.points[i]
    if not points:
        return None
    reason = f"bonus draw: +{points:,} ({table.weights[i]:,} in {table.total:,}; roll {drawn:,})"
    return Entry(event_id, EntryKind.BONUS, table.rule, points, points, reason, version)
