"""The HubSpot connector over HTTP: contacts upserted by email through HubSpot's documented
batch endpoint (`POST /crm/v3/objects/contacts/batch/upsert`), or updated by their record id
(`hs_object_id`) through `POST /crm/v3/objects/contacts/batch/update`, with the access token from
settings (read again from its file when HubSpot answers 401). The token is sent only in the
Authorization header: it is never logged, and never part of an error kept in the database."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx

from accolade import __version__
from accolade.errors import InvalidInput
from accolade.integrations.http import OwnsClient, retry_after
from accolade.service import Clock, system_clock
from accolade.service.crm import Contact, UpsertResult, sync_due
from accolade.service.webhooks import DEFAULT_LEASE_SECONDS, DeliveryReport
from accolade.settings import Settings
from accolade.store.unit_of_work import Store

log = logging.getLogger(__name__)
UPSERT_PATH = "/crm/v3/objects/contacts/batch/upsert"
UPDATE_PATH = "/crm/v3/objects/contacts/batch/update"  # by record id: inputs [{id, properties}]
USER_AGENT = f"Accolade-HubSpot/{__version__}"
_MAX_REASON = 500


def token_reader(settings: Settings) -> Callable[[], str]:
    """Reads the access token: from ACCOLADE_HUBSPOT_ACCESS_TOKEN_FILE (again on each call,
    so a refreshed token is picked up), else ACCOLADE_HUBSPOT_ACCESS_TOKEN."""
    path = settings.hubspot_access_token_file
    if path is not None:
        return lambda: Path(path).read_text(encoding="utf-8").strip()
    secret = settings.hubspot_access_token
    if secret is None:
        raise InvalidInput(
            "set ACCOLADE_HUBSPOT_ACCESS_TOKEN or ACCOLADE_HUBSPOT_ACCESS_TOKEN_FILE for the "
            "HubSpot connector",
            field="hubspot_access_token",
        )
    return secret.get_secret_value


def configured(settings: Settings) -> bool:
    return settings.hubspot_access_token is not None or bool(settings.hubspot_access_token_file)


class HubSpotClient(OwnsClient):
    """Upserts contacts in one batch request; any 2xx is done. 401 reads the token again
    and tries once more; 429 asks for Retry-After; other 4xx is a refusal (dead letter);
    5xx and the network's faults are retried."""

    def __init__(self, base_url: str, token: Callable[[], str], timeout: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.read_token = token
        self.timeout = timeout
        self.token: str | None = None
        self.client = httpx.Client(
            timeout=timeout, follow_redirects=False, headers={"user-agent": USER_AGENT}
        )

    def __call__(self, contacts: Sequence[Contact], /) -> UpsertResult:
        # the sync sends contacts keyed by email and records keyed by id in separate calls
        by_id = bool(contacts) and contacts[0].record_id is not None
        body = {
            "inputs": [
                {"id": c.record_id, "properties": dict(c.properties)}
                if by_id
                else {"idProperty": "email", "id": c.email, "properties": dict(c.properties)}
                for c in contacts
            ]
        }
        path = UPDATE_PATH if by_id else UPSERT_PATH
        try:
            if self.token is None:
                self.token = self.read_token()
            response = self._post(path, body)
            if response.status_code == 401:
                # Expired (or rotated): whoever refreshes it has written the new one.
                self.token = self.read_token()
                response = self._post(path, body)
        except httpx.TimeoutException:
            return UpsertResult(False, None, f"no answer within {self.timeout:g} s")
        except (httpx.HTTPError, httpx.InvalidURL, OSError) as exc:
            return UpsertResult(False, None, self._scrub(f"{type(exc).__name__}: {exc}"))
        status = response.status_code
        if 200 <= status < 300:
            return UpsertResult(True, status)
        reason = self._scrub(f"HTTP {status}: {_message(response)}")
        if status == 429:
            return UpsertResult(False, status, reason, retry_after=retry_after(response))
        if status == 401 or status == 408 or status >= 500:
            return UpsertResult(False, status, reason)
        return UpsertResult(False, status, reason, retryable=False)

    def _post(self, path: str, body: object) -> httpx.Response:
        return self.client.post(
            self.base_url + path, json=body, headers={"authorization": f"Bearer {self.token}"}
        )

    def _scrub(self, text: str) -> str:
        if self.token:
            text = text.replace(self.token, "[token]")
        return text[:_MAX_REASON]


def client_from(settings: Settings) -> HubSpotClient:
    return HubSpotClient(
        settings.hubspot_base_url, token_reader(settings), settings.hubspot_timeout_seconds
    )


def sync_hubspot(
    store: Store,
    settings: Settings,
    client: HubSpotClient,
    *,
    clock: Clock = system_clock,
    stop: threading.Event | None = None,
) -> DeliveryReport:
    """One round of the HubSpot connector, with the retries of webhooks' settings."""
    return sync_due(
        store,
        client,
        clock=clock,
        max_attempts=settings.webhook_max_attempts,
        backoff_seconds=settings.webhook_backoff_seconds,
        lease_seconds=max(DEFAULT_LEASE_SECONDS, 4 * settings.hubspot_timeout_seconds),
        stop=stop,
    )


def _message(response: httpx.Response) -> str:
    """HubSpot's own words on a refusal (its error body's message), or the start of the body."""
    try:
        found = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(found, dict) and isinstance(found.get("message"), str):
        return str(found["message"])
    return response.text[:200]
