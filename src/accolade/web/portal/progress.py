"""The portal's progress pages: quests step by step, challenges with their time left, badges
earned and locked (with LinkedIn share links), and the leaderboards a member is on, with the
opt-out that hides them from others. Everything from the services the API uses."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from accolade.engine.challenges import ChallengeProgress
from accolade.errors import AccoladeError, InvalidInput, NotFound
from accolade.program.compiled import CompiledProgram
from accolade.program.models import OPT_OUT_ATTRIBUTE
from accolade.service import badges as badges_service
from accolade.service import leaderboards as leaderboards_service
from accolade.service import members as members_service
from accolade.service import openbadges
from accolade.service.leaderboards import BoardPage, BoardSummary, Row, SubjectStanding
from accolade.service.members import MemberView
from accolade.service.programs import active
from accolade.service.sharing import linkedin_share
from accolade.web.portal.web import PREFIX, Member, Page, headers, render

router = APIRouter(prefix=PREFIX, include_in_schema=False)
TOP = 10
AROUND = 3
# The query parameters of the leaderboards page, by the field a service names in its errors.
PARAMETERS = {"leaderboard": "board", "window": "window", "partition": "partition"}


def _compiled(page: Page) -> CompiledProgram:
    with page.ctx.store.read() as uow:
        return active(uow, page.program).compiled


def _view(page: Page) -> MemberView:
    return members_service.show(page.ctx.store, page.program, page.member, clock=page.ctx.clock)


# --- quests ---------------------------------------------------------------------------------


def requirements(program: CompiledProgram, quest: str) -> list[str]:
    """What a locked quest waits for: the names of the quests before it, and its tier."""
    compiled = program.quests.get(quest)
    if compiled is None:
        return []
    found = [program.quests[q].name for q in compiled.requires_quests if q in program.quests]
    tier = next((t.name for t in program.tiers if t.key == compiled.requires_tier), None)
    return [*found, *([tier] if tier else [])]


@router.get("/quests")
def quests(request: Request, page: Member) -> Response:
    view = _view(page)
    program = _compiled(page)
    return render(
        request,
        "quests.html",
        {
            "quests": view.quests,
            "requires": {q.key: requirements(program, q.key) for q in view.quests},
        },
        page=page,
    )


# --- challenges -----------------------------------------------------------------------------


def shown_challenges(challenges: Sequence[ChallengeProgress]) -> dict[str, list[ChallengeProgress]]:
    """The challenges a member is shown, by status: the open and upcoming ones open to them,
    and the closed ones they took part in (a closed one they never counted toward is gone)."""
    out: dict[str, list[ChallengeProgress]] = {"open": [], "upcoming": [], "closed": []}
    for challenge in sorted(challenges, key=lambda c: (c.ends_at, c.name)):
        took_part = challenge.progress > 0 or challenge.reached_at is not None or challenge.won
        if challenge.status != "closed" or took_part:
            out[challenge.status].append(challenge)
    return out


@router.get("/challenges")
def challenges(request: Request, page: Member) -> Response:
    view = _view(page)
    return render(
        request,
        "challenges.html",
        {"challenges": shown_challenges(view.challenges), "now": page.ctx.clock()},
        page=page,
    )


# --- badges ---------------------------------------------------------------------------------


def badge_anchor(key: str, period: str) -> str:
    return f"badge-{key}-{period}" if period else f"badge-{key}"


@router.get("/badges")
def badges(
    request: Request, page: Member, done: Annotated[str | None, Query(max_length=8)] = None
) -> Response:
    held = badges_service.member_badges(page.ctx.store, page.program, page.member)
    base = (page.ctx.settings.public_url or str(request.base_url)).rstrip("/")
    shared = openbadges.shared_badges(
        page.ctx.store, page.program, page.member, openbadges.Links(base), clock=page.ctx.clock
    )
    view = _view(page)
    return render(
        request,
        "badges.html",
        {
            "badges": held,
            "shares": {(s.key, s.period): s for s in shared},
            "anchor": badge_anchor,
            "private": view.attributes.get(openbadges.PRIVATE_ATTRIBUTE) is True,
            "done": done if done in ("private", "public") else None,
        },
        page=page,
    )


@router.post("/badges/privacy")
def badge_privacy(
    request: Request, page: Member, choice: Annotated[str, Form(max_length=8)] = ""
) -> Response:
    """Hide the member's public badge pages (``private``) or show them again (``public``): a
    logged member.updated event setting their attribute. Hosted assertions stay verifiable."""
    if choice not in ("private", "public"):
        raise InvalidInput("choose private or public", field="choice")
    members_service.update(
        page.ctx.store,
        page.program,
        page.member,
        attributes={openbadges.PRIVATE_ATTRIBUTE: choice == "private"},
        clock=page.ctx.clock,
    )
    return RedirectResponse(
        f"{PREFIX}/badges?done={choice}", status_code=303, headers=headers(page.ctx)
    )


@router.get("/badges/{assertion_id}")
def badge_page(request: Request, assertion_id: str) -> Response:
    """The public page of one award: who earned which badge and when; 404 when revoked or
    when the member made their badge pages private. Open to anyone, signed in or not."""
    ctx = request.app.state.context
    found = openbadges.public_award(ctx.store, assertion_id)
    base = (ctx.settings.public_url or str(request.base_url)).rstrip("/")
    links = openbadges.Links(base)
    with ctx.store.read() as uow:
        zone = active(uow, found.program).compiled.zone
    return render(
        request,
        "badge_page.html",
        {"award": found, "links": links, "share": linkedin_share(links.page(assertion_id))},
        zone=zone,
    )


# --- leaderboards ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    label: str
    href: str
    current: bool


@dataclass(frozen=True)
class MyBoard:
    """A board the member (their team, their company) is on, with where they stand now."""

    summary: BoardSummary
    subject: str
    standing: SubjectStanding


def my_boards(page: Page, view: MemberView, summaries: list[BoardSummary]) -> list[MyBoard]:
    """Every board whose segment takes the member in (a team or company board: when they
    have one), with their standing in its current window."""
    found: list[MyBoard] = []
    subjects = {"member": view.member, "team": view.team, "company": view.company}
    for summary in summaries:
        subject = subjects.get(summary.subject)
        if subject is None:
            continue
        standing = leaderboards_service.standing(
            page.ctx.store, page.program, summary.key, subject, around=0, clock=page.ctx.clock
        )
        if standing.partition is not None:
            found.append(MyBoard(summary, subject, standing))
    return found


def board_href(board: str, window: str | None, partition: Mapping[str, str] | None) -> str:
    query: list[tuple[str, str]] = [("board", board)]
    if window:
        query.append(("window", window))
    query += [("partition", f"{k}:{v}") for k, v in (partition or {}).items()]
    return f"{PREFIX}/leaderboards?{urlencode(query)}#board"


def window_links(
    summary: BoardSummary,
    asked: str | None,
    current: str | None,
    partition: Mapping[str, str] | None,
) -> list[Link]:
    """The current window, then every earlier one with scores, newest first; none for an
    all-time or rolling board (one window). ``current`` is the current window's label."""
    if summary.window == "all" or summary.window.endswith("d"):
        return []
    now = asked in (None, "current", current)
    links = [Link("current", board_href(summary.key, None, partition), now)]
    links += [
        Link(w.label, board_href(summary.key, w.label, partition), asked == w.label and not now)
        for w in sorted(summary.windows, key=lambda w: w.label, reverse=True)
        if w.label != current
    ]
    return links


def partition_text(values: Mapping[str, Any]) -> str:
    return ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in values.items())


def leaderboard_page(
    request: Request,
    page: Member,
    board: str | None,
    window: str | None,
    partition: Sequence[str],
    *,
    done: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    """The page: the member's boards, and one of them (asked for, or the first) in the window
    and partition asked for. A bad parameter shows the page with its error, naming it."""
    view = _view(page)
    summaries = leaderboards_service.boards(page.ctx.store, page.program)
    boards = my_boards(page, view, summaries)
    values: dict[str, Any] = {
        "boards": boards,
        "visible": view.attributes.get(OPT_OUT_ATTRIBUTE) is not True,
        "done": done if done in ("out", "in") else None,
        "error": error,
        "selected": None,
        "href": board_href,
    }
    key = board or (boards[0].summary.key if boards else None)
    if key is not None:
        try:
            values["selected"] = _selected(page, summaries, boards, key, window, partition)
        except (InvalidInput, NotFound) as refused:
            values["error"] = _named(refused)
            status = 404 if isinstance(refused, NotFound) else 422
    return render(request, "leaderboards.html", values, page=page, status=status)


def _named(error: AccoladeError) -> str:
    field = (error.field or "").split(".")[0]
    return f"{PARAMETERS.get(field, field)}: {error.message}" if field else error.message


def _selected(
    page: Page,
    summaries: list[BoardSummary],
    boards: list[MyBoard],
    key: str,
    window: str | None,
    partition: Sequence[str],
) -> dict[str, Any]:
    store, program, clock = page.ctx.store, page.program, page.ctx.clock
    asked = leaderboards_service.partition_pairs(partition)
    mine = next((b for b in boards if b.summary.key == key), None)
    summary = next((s for s in summaries if s.key == key), None)
    if summary is None:
        known = ", ".join(s.key for s in summaries) or "(none)"
        raise NotFound(f"no leaderboard '{key}' (known: {known})", field="leaderboard")
    standing = (
        leaderboards_service.standing(
            store, program, key, mine.subject, window=window, around=AROUND, clock=clock
        )
        if mine is not None
        else None
    )
    own = (
        leaderboards_service.as_query(standing.partition)
        if standing is not None and standing.partition is not None
        else {}
    )
    shown = asked or own
    top: BoardPage = leaderboards_service.top(
        store, program, key, window=window, partition=shown, limit=TOP, clock=clock
    )
    others = leaderboards_service.partitions(store, program, key, window=window, clock=clock)
    if own and own not in others:
        others.insert(0, own)
    around: list[Row] = []
    if standing is not None and standing.ranked and shown == own and standing.rank is not None:
        me = Row(standing.rank, standing.subject, standing.subject, standing.score)
        around = [*standing.above, me, *standing.below]
    return {
        "summary": summary,
        "subject": mine.subject if mine else None,
        "standing": standing,
        "top": top,
        "around": around,
        "own_partition": own == shown,
        "windows": window_links(
            summary,
            window,
            mine.standing.window.label if mine else None,
            shown if asked else None,
        ),
        "partitions": [
            Link(partition_text(p), board_href(key, window, p), p == shown) for p in others
        ]
        if summary.partition
        else [],
        "own": own,
    }


@router.get("/leaderboards")
def leaderboards(
    request: Request,
    page: Member,
    board: Annotated[str | None, Query(max_length=64)] = None,
    window: Annotated[str | None, Query(max_length=16)] = None,
    partition: Annotated[list[str] | None, Query(max_length=20)] = None,
    done: Annotated[str | None, Query(max_length=8)] = None,
) -> Response:
    return leaderboard_page(request, page, board, window, partition or [], done=done)


@router.post("/leaderboards/opt")
def opt(
    request: Request,
    page: Member,
    choice: Annotated[str, Form(max_length=8)] = "",
    board: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Hide the member from others' view of every board (``out``), or show them again (``in``):
    a logged member.updated event setting or clearing their opt-out attribute."""
    if choice not in ("out", "in"):
        return leaderboard_page(
            request,
            page,
            board or None,
            None,
            [],
            error="choice: choose out or in",
            status=422,
        )
    members_service.update(
        page.ctx.store,
        page.program,
        page.member,
        attributes={OPT_OUT_ATTRIBUTE: choice == "out"},
        clock=page.ctx.clock,
    )
    query = urlencode({**({"board": board} if board else {}), "done": choice})
    return RedirectResponse(
        f"{PREFIX}/leaderboards?{query}", status_code=303, headers=headers(page.ctx)
    )
