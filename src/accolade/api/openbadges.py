"""Open Badges: the public documents a verifier fetches (2.0 hosted assertions, badge classes,
issuers, images, baked images; 3.0 credentials and the JWKS that verifies them), and a
member's badges with their LinkedIn links for the host product (docs/openbadges.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from accolade.api.access import Caller, Ctx
from accolade.api.errors import ERROR_RESPONSES, ErrorResponse
from accolade.service import badge_credentials, badge_images, openbadges
from accolade.service.openbadges import Links, SharedBadge

router = APIRouter(tags=["open badges"], responses=ERROR_RESPONSES)
JSON_LD = "application/ld+json"
SVG = "image/svg+xml"
# Verifiers fetch these documents again and again; an award's state can change (a reversal
# revokes it), so caches keep them briefly.
CACHE = {"Cache-Control": "public, max-age=60"}


def links(ctx: Ctx, request: Request) -> Links:
    """The public base: ACCOLADE_PUBLIC_URL, or the address this request came to."""
    return Links((ctx.settings.public_url or str(request.base_url)).rstrip("/"))


def _json(document: dict[str, Any], status: int = 200) -> JSONResponse:
    return JSONResponse(document, status_code=status, media_type=JSON_LD, headers=CACHE)


@router.get(
    "/v1/members/{member_id}/badges",
    response_model=list[SharedBadge],
    summary="A member's badges, with their Open Badges URLs and LinkedIn links",
)
def get_member_badges(member_id: str, request: Request, ctx: Ctx, principal: Caller) -> Any:
    principal.may_read_member(member_id)
    return openbadges.shared_badges(
        ctx.store, principal.program_key, member_id, links(ctx, request), clock=ctx.clock
    )


@router.get(
    "/ob/assertions/{assertion_id}",
    summary="Open Badges 2.0 Assertion (hosted verification; 410 with revoked when revoked)",
)
def get_assertion(assertion_id: str, request: Request, ctx: Ctx) -> Any:
    found = openbadges.award(ctx.store, assertion_id)
    document = openbadges.assertion_document(found, links(ctx, request))
    return _json(document, 410 if found.revoked else 200)


@router.get(
    "/ob/assertions/{assertion_id}/baked.svg",
    summary="The badge's image with its Open Badges 2.0 assertion baked in",
)
def get_baked(assertion_id: str, request: Request, ctx: Ctx) -> Any:
    found = openbadges.award(ctx.store, assertion_id)
    if found.revoked:
        return get_assertion(assertion_id, request, ctx)
    document = openbadges.assertion_document(found, links(ctx, request))
    svg = badge_images.baked_svg(badge_images.badge_svg(found.badge_name, found.badge), document)
    return Response(
        svg,
        media_type=SVG,
        headers={**CACHE, "Content-Disposition": f'attachment; filename="{found.badge}.svg"'},
    )


@router.get("/ob/badges/{program}/{badge}", summary="Open Badges 2.0 BadgeClass")
def get_badge_class(program: str, badge: str, request: Request, ctx: Ctx) -> Any:
    return _json(openbadges.badge_class_document(ctx.store, program, badge, links(ctx, request)))


@router.get("/ob/badges/{program}/{badge}/image.svg", summary="A badge's generated image")
def get_badge_image(program: str, badge: str, request: Request, ctx: Ctx) -> Any:
    document = openbadges.badge_class_document(ctx.store, program, badge, links(ctx, request))
    return Response(
        badge_images.badge_svg(str(document["name"]), badge), media_type=SVG, headers=CACHE
    )


@router.get("/ob/issuers/{program}", summary="Open Badges 2.0 Issuer (the program)")
def get_issuer(program: str, request: Request, ctx: Ctx) -> Any:
    issuer = openbadges.issuer_of(
        ctx.store,
        program,
        url=ctx.settings.badge_issuer_url,
        email=ctx.settings.badge_issuer_email,
    )
    return _json(openbadges.issuer_document(issuer, links(ctx, request)))


# A server without its signing key (ACCOLADE_BADGE_KEY_FILE) cannot sign nor publish a key.
NO_KEY: dict[int | str, dict[str, Any]] = {
    503: {"model": ErrorResponse, "description": "No signing key is configured or readable"}
}


def _key_path(ctx: Ctx) -> Path | None:
    given = ctx.settings.badge_key_file
    return Path(given) if given else None


@router.get(
    "/ob/credentials/{assertion_id}",
    summary="Open Badges 3.0 OpenBadgeCredential, signed as a VC-JWT (EdDSA)",
    responses={200: {"content": {"application/vc+jwt": {}}}, **NO_KEY},
)
def get_credential(assertion_id: str, request: Request, ctx: Ctx) -> Any:
    key = badge_credentials.load_key(_key_path(ctx))
    found = openbadges.award(ctx.store, assertion_id)
    issuer = openbadges.issuer_of(
        ctx.store,
        found.program,
        url=ctx.settings.badge_issuer_url,
        email=ctx.settings.badge_issuer_email,
    )
    credential = badge_credentials.credential_document(found, issuer, links(ctx, request))
    return Response(
        badge_credentials.sign(credential, key), media_type="application/vc+jwt", headers=CACHE
    )


@router.get(
    "/ob/.well-known/jwks.json",
    summary="The public key Open Badges 3.0 credentials verify with",
    responses=NO_KEY,
)
def get_jwks(ctx: Ctx) -> Any:
    key = badge_credentials.load_key(_key_path(ctx))
    return JSONResponse(badge_credentials.jwks(key), headers=CACHE)
