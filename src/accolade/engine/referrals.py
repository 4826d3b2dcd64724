"""A referral's state machine: the stages a prospect goes through as the CRM moves it, which
move may follow which, what a move sends to the referring member and what it takes back.
Pure: the service keeps the rows and sends the events."""

from __future__ import annotations

from accolade.errors import Conflict, InvalidInput

STAGES = ("submitted", "accepted", "qualified", "opportunity", "won")
CLOSED = ("lost", "disqualified")
STATUSES = (*STAGES, *CLOSED, "duplicate")
# the moves the CRM makes, and the status each leads to
MOVES = {
    "accept": "accepted",
    "qualify": "qualified",
    "opportunity": "opportunity",
    "win": "won",
    "lose": "lost",
    "disqualify": "disqualified",
}


def status_after(move: str) -> str:
    """The status ``move`` leads to."""
    if move not in MOVES:
        raise InvalidInput(f"unknown move '{move}'; one of {', '.join(MOVES)}", field="move")
    return MOVES[move]


def require_what_it_needs(move: str, *, has_amount: bool, has_reason: bool) -> None:
    """A won deal needs its amount; a lost or disqualified one, the reason why."""
    if move == "win" and not has_amount:
        raise InvalidInput("a won deal needs its amount", field="amount")
    if move in ("lose", "disqualify") and not has_reason:
        raise InvalidInput("say why", field="reason")


def check_move(referral_id: str, status: str, duplicate_of: str | None, target: str) -> None:
    """Conflict when a referral in ``status`` may not move to ``target`` (a move to the status
    it has already is the caller's duplicate, not a conflict): a duplicate never moves, a
    disqualified one is final, a lost one may still be disqualified, a won one may only be
    lost or disqualified, and a stage never goes back."""
    if status == "duplicate":
        raise Conflict(
            f"referral '{referral_id}' is a duplicate of '{duplicate_of}': it does not move",
            field="status",
        )
    if status == "disqualified" or (status == "lost" and target != "disqualified"):
        raise Conflict(f"referral '{referral_id}' is {status}", field="status")
    if status == "won" and target not in CLOSED:
        raise Conflict(f"referral '{referral_id}' is won already", field="status")
    if target in STAGES and STAGES.index(target) < STAGES.index(status):
        raise Conflict(
            f"referral '{referral_id}' is {status}; it does not go back to {target}",
            field="status",
        )


def stages_to_send(last_sent: str, target: str) -> list[str]:
    """The stages after ``last_sent`` up to ``target``: a referral moved straight to won also
    earns what accepted, qualified and opportunity give. None for a closing move."""
    if target not in STAGES:
        return []
    return list(STAGES[STAGES.index(last_sent) + 1 : STAGES.index(target) + 1])


def stages_taken_back(target: str) -> tuple[str, ...]:
    """The stages whose events a closing move reverses: all of them when the referral is
    disqualified (it should never have earned anything), the win when a won deal is lost."""
    if target == "disqualified":
        return STAGES
    if target == "lost":
        return ("won",)
    return ()
