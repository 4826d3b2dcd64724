"""The portal's way in and out, and its home page: a member's balance, tier, stage, streaks
and the next things to do, all from service/members.py (the portal has no logic of its own).

A host app signs its member in its own way, mints a member token (``POST
/v1/members/{id}/token``) and links to ``/portal/enter?token=mt_...``; the token is exchanged
for a session cookie and the browser sent on to ``/portal/`` at once, so it leaves the address
bar and the history (docs/portal.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from accolade.api.access import ApiContext, context
from accolade.program.models import Tier
from accolade.service import members as members_service
from accolade.service import recommend
from accolade.service.members import MemberView
from accolade.service.programs import active
from accolade.web.portal.session import COOKIE, sign_in
from accolade.web.portal.web import PREFIX, Member, headers, render

router = APIRouter(prefix=PREFIX, include_in_schema=False)
NEXT_THINGS = 3


@router.get("/enter")
def enter(
    request: Request,
    ctx: Annotated[ApiContext, Depends(context)],
    token: Annotated[str, Query(min_length=1, max_length=2000)],
) -> Response:
    """Exchange a link's member token for a session cookie, then go home."""
    cookie, _ = sign_in(
        ctx.store,
        token,
        timedelta(seconds=ctx.settings.portal_session_seconds),
        ctx.clock,
        secret=ctx.secret,
    )
    response = RedirectResponse(f"{PREFIX}/", status_code=303, headers=headers(ctx))
    framed = bool(ctx.settings.portal_frame_ancestors.split())
    response.set_cookie(
        COOKIE,
        cookie,
        max_age=ctx.settings.portal_session_seconds,
        path=PREFIX,
        httponly=True,
        # in a host app's iframe the cookie is a third party's: browsers send it only when it
        # is SameSite=None, which they accept only when Secure (served over TLS)
        secure=framed or request.url.scheme == "https",
        samesite="none" if framed else "lax",
    )
    return response


@router.post("/signout")
def sign_out(page: Member) -> Response:
    response = RedirectResponse(f"{PREFIX}/signed-out", status_code=303, headers=headers(page.ctx))
    response.delete_cookie(COOKIE, path=PREFIX)
    return response


@router.get("/signed-out")
def signed_out(request: Request) -> Response:
    return render(request, "signed_out.html", {})


@dataclass(frozen=True)
class NextThing:
    """One of the things to do next: a quest's next step, or an open challenge."""

    kind: str  # quest | challenge
    title: str
    detail: str | None
    percent: int
    deadline: datetime | None
    points: int
    badge: str | None
    href: str


def next_things(view: MemberView, limit: int = NEXT_THINGS) -> list[NextThing]:
    """The quests' next steps and the open challenges not reached yet, the soonest deadline
    first (a thing without one last), at most ``limit``."""
    found: list[NextThing] = []
    for quest in view.quests:
        if quest.next_step is None or quest.status not in ("available", "in_progress"):
            continue
        step = next(s for s in quest.steps if s.key == quest.next_step.key)
        found.append(
            NextThing(
                "quest",
                quest.next_step.name,
                quest.name,
                quest.percent,
                quest.expires_at,
                step.points,
                None,
                f"{PREFIX}/quests#quest-{quest.key}",
            )
        )
    for challenge in view.challenges:
        if challenge.status != "open" or challenge.reached_at is not None:
            continue
        found.append(
            NextThing(
                "challenge",
                challenge.name,
                challenge.goal,
                challenge.percent,
                challenge.ends_at,
                challenge.reward.points,
                challenge.reward.badge,
                f"{PREFIX}/challenges#challenge-{challenge.key}",
            )
        )
    far = datetime.max.replace(tzinfo=None)
    found.sort(key=lambda t: (t.deadline.replace(tzinfo=None) if t.deadline else far, t.title))
    return found[:limit]


def tier_progress(view: MemberView, tiers: Sequence[Tier]) -> dict[str, Any]:
    """From the current tier's threshold to the next one's: how far the member's lifetime
    points have come, and what the next tier gives."""
    current = next((t for t in tiers if t.key == view.tier), None)
    upcoming = next((t for t in tiers if t.key == view.next_tier), None)
    if upcoming is None:
        return {"percent": 100, "next": None}
    floor = current.min_points if current else 0
    span = max(1, upcoming.min_points - floor)
    percent = max(0, min(100, (view.lifetime - floor) * 100 // span))
    return {"percent": percent, "next": upcoming}


@router.get("/")
def home(request: Request, page: Member) -> Response:
    view = members_service.show(page.ctx.store, page.program, page.member, clock=page.ctx.clock)
    with page.ctx.store.read() as uow:
        compiled = active(uow, page.program).compiled
    return render(
        request,
        "home.html",
        {
            "view": view,
            "tier": tier_progress(view, compiled.tiers),
            "next_things": next_things(view),
            # empty for the control arm of an experiment covering them: the section is hidden
            "recommended": recommend.next_actions(
                page.ctx.store, page.program, page.member, limit=NEXT_THINGS, clock=page.ctx.clock
            ).recommendations,
            "now": page.ctx.clock(),
        },
        page=page,
        zone=compiled.zone,  # already at hand: render would look the program up again
    )


@router.post("/next/dismiss")
def dismiss_next(
    page: Member, candidate: Annotated[str, Form(min_length=3, max_length=200)]
) -> Response:
    """The member dismisses a recommended thing: logged, and hidden from their list a while."""
    recommend.dismiss(page.ctx.store, page.program, page.member, candidate, clock=page.ctx.clock)
    return RedirectResponse(f"{PREFIX}/", status_code=303, headers=headers(page.ctx))
