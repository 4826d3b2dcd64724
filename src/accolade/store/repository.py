"""Bulk reads and writes of programs, members, the event log, the ledger, badges,
leaderboards, rewards, referrals, the facet index and
reference requests.

Every method runs on the caller's connection, inside the caller's transaction; statements
are batched per chunk of events (executemany / multi-row VALUES), never one per event.
Each part lives in its own module (programs, members, the event log, the ledger), with the
bulk plumbing they share in _base; Repository is all of them on one connection.
"""

from __future__ import annotations

from accolade.store.facets_repo import FacetsRepo
from accolade.store.leaderboards_repo import LeaderboardRepo
from accolade.store.ledger_repo import LedgerRepo, NewEntry
from accolade.store.log_repo import Evaluated, LoggedEvent, LogRepo, NewEvent
from accolade.store.members_repo import LockedMember, MemberCache, MembersRepo
from accolade.store.programs_repo import ProgramsRepo
from accolade.store.rankings_repo import RankingRepo
from accolade.store.references_repo import ReferencesRepo
from accolade.store.referrals_repo import ReferralsRepo
from accolade.store.rewards_repo import RewardsRepo

__all__ = [
    "Evaluated",
    "LockedMember",
    "LoggedEvent",
    "MemberCache",
    "NewEntry",
    "NewEvent",
    "Repository",
]


class Repository(
    ProgramsRepo,
    MembersRepo,
    LogRepo,
    LedgerRepo,
    LeaderboardRepo,
    RankingRepo,
    RewardsRepo,
    ReferralsRepo,
    FacetsRepo,
    ReferencesRepo,
):
    """Bulk reads and writes on the caller's connection, in the caller's transaction."""
