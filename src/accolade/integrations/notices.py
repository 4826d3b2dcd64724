"""Slack and Microsoft Teams notices over HTTP: a rendered notice posted to the channel's
incoming-webhook URL from settings, as Block Kit (Slack) or an Adaptive Card 1.4 (Teams).
A webhook URL is a secret (whoever has it posts to the channel): it is never logged, and
never part of an error kept in the database."""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import SecretStr

from accolade import __version__
from accolade.integrations.http import OwnsClient, retry_after
from accolade.service import Clock, system_clock
from accolade.service.connectors import SLACK, TEAMS
from accolade.service.crm import UpsertResult
from accolade.service.notices import ChannelGate, Rendered, sync_notices
from accolade.service.webhooks import DEFAULT_LEASE_SECONDS, DeliveryReport
from accolade.settings import Settings
from accolade.store.unit_of_work import Store

USER_AGENT = f"Accolade-Notices/{__version__}"
DEFAULT_CHANNEL = "default"
ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
_MAX_REASON = 500
# Teams' legacy connectors answer 200 with this text when the channel refused the card.
_TEAMS_REFUSAL = re.compile(r"returned HTTP error (\d{3})")


def slack_blocks(notices: Sequence[Rendered]) -> dict[str, Any]:
    """A Block Kit message: per notice a header (its title), a section of mrkdwn text and a
    context line; `text` is the fallback shown in notifications."""
    blocks: list[dict[str, Any]] = []
    for notice in notices:
        if notice.title:
            blocks.append(
                {"type": "header", "text": {"type": "plain_text", "text": notice.title[:150]}}
            )
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": notice.text}})
        if notice.context:
            blocks.append(
                {"type": "context", "elements": [{"type": "mrkdwn", "text": notice.context}]}
            )
    return {"text": "\n".join(n.title or n.text for n in notices)[:3000], "blocks": blocks}


def teams_card(notices: Sequence[Rendered]) -> dict[str, Any]:
    """A message with one Adaptive Card (1.4): per notice a bold title, the text and a
    subtle context line, each a TextBlock."""
    body: list[dict[str, Any]] = []
    for notice in notices:
        if notice.title:
            body.append(
                {
                    "type": "TextBlock",
                    "text": notice.title,
                    "size": "Medium",
                    "weight": "Bolder",
                    "wrap": True,
                }
            )
        body.append({"type": "TextBlock", "text": notice.text, "wrap": True})
        if notice.context:
            body.append(
                {"type": "TextBlock", "text": notice.context, "isSubtle": True, "wrap": True}
            )
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    return {
        "type": "message",
        "attachments": [{"contentType": ADAPTIVE_CARD, "contentUrl": None, "content": card}],
    }


def slack_escape(text: str) -> str:
    """Slack's mrkdwn control characters in a value (a member id of `<!channel>` pings no one)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class ChatPoster(OwnsClient):
    """Posts a rendered notice to a channel's incoming webhook. 2xx is done (Teams' legacy
    200 carrying an error is read as that error); 429 asks for Retry-After; 408 and 5xx and
    the network's faults are retried; other 4xx (Slack's `invalid_blocks`, `no_service`,
    ...) is a refusal: a dead letter with the target's words."""

    def __init__(self, kind: str, urls: dict[str, SecretStr], timeout: float) -> None:
        self.kind = kind
        self.urls = urls
        self.timeout = timeout
        self.client = httpx.Client(
            timeout=timeout, follow_redirects=False, headers={"user-agent": USER_AGENT}
        )

    def __call__(self, channel: str, notices: Sequence[Rendered], /) -> UpsertResult:
        secret = self.urls.get(channel)
        if secret is None:
            variable = f"ACCOLADE_{self.kind.upper()}_WEBHOOK_URL" + (
                "" if channel == DEFAULT_CHANNEL else "S"
            )
            return UpsertResult(
                False, None, f"no webhook URL for {self.kind} channel '{channel}' (set {variable})"
            )
        url = secret.get_secret_value()
        body = slack_blocks(notices) if self.kind == SLACK else teams_card(notices)
        try:
            response = self.client.post(url, json=body)
        except httpx.TimeoutException:
            return UpsertResult(False, None, f"no answer within {self.timeout:g} s")
        except (httpx.HTTPError, httpx.InvalidURL, OSError) as exc:
            return UpsertResult(False, None, _scrub(f"{type(exc).__name__}: {exc}", url))
        status = response.status_code
        text = response.text.strip()
        if 200 <= status < 300:
            refused = _TEAMS_REFUSAL.search(text) if self.kind == TEAMS else None
            if refused is None:
                return UpsertResult(True, status)
            status = int(refused.group(1))
        reason = _scrub(f"HTTP {status}: {text[:300] or response.reason_phrase}", url)
        if status == 429:
            return UpsertResult(False, status, reason, retry_after=retry_after(response))
        if status == 408 or status >= 500:
            return UpsertResult(False, status, reason)
        return UpsertResult(False, status, reason, retryable=False)


def channel_urls(settings: Settings, kind: str) -> dict[str, SecretStr]:
    """The channels' webhook URLs of ``kind`` from settings: the named ones and `default`."""
    if kind == SLACK:
        default, named = settings.slack_webhook_url, settings.slack_webhook_urls
    else:
        default, named = settings.teams_webhook_url, settings.teams_webhook_urls
    urls = dict(named)
    if default is not None:
        urls[DEFAULT_CHANNEL] = default
    return urls


def configured_kinds(settings: Settings) -> list[str]:
    return [kind for kind in (SLACK, TEAMS) if channel_urls(settings, kind)]


def poster_from(settings: Settings, kind: str) -> ChatPoster:
    return ChatPoster(kind, channel_urls(settings, kind), settings.notice_timeout_seconds)


def gate_from(settings: Settings) -> ChannelGate:
    return ChannelGate(settings.notice_spacing_seconds)


def send_notices(
    store: Store,
    settings: Settings,
    poster: ChatPoster,
    gate: ChannelGate,
    *,
    clock: Clock = system_clock,
    stop: threading.Event | None = None,
) -> DeliveryReport:
    """One round of a chat connector, with the retries of webhooks' settings."""
    return sync_notices(
        store,
        poster,
        gate,
        kind=poster.kind,
        escape=slack_escape if poster.kind == SLACK else str,
        clock=clock,
        max_attempts=settings.webhook_max_attempts,
        backoff_seconds=settings.webhook_backoff_seconds,
        lease_seconds=max(DEFAULT_LEASE_SECONDS, 4 * settings.notice_timeout_seconds),
        stop=stop,
    )


def _scrub(text: str, url: str) -> str:
    text = text.replace(url, "[webhook URL]")
    path = urlsplit(url).path
    if len(path) > 1:  # the secret part of hooks.slack.com/services/T.../B.../...
        text = text.replace(path, "[path]")
    return text[:_MAX_REASON]
