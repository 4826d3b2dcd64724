"""The Salesforce connector over HTTP: Leads (or Contacts) upserted by an external id field
through the documented sObject Collections upsert (`PATCH /services/data/vXX.X/composite/
sobjects/{object}/{field}`, `allOrNone: false`, so each record is written or refused on its
own), or updated by their record Id (`PATCH .../composite/sobjects`, a member whose
`id_attribute` holds it), with an OAuth 2.0 token from settings or the client credentials flow, asked for again
when Salesforce answers 401 INVALID_SESSION_ID. Tokens and the client secret are sent only to
Salesforce: never logged, never part of an error kept in the database."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx

from accolade import __version__
from accolade.errors import InvalidInput
from accolade.integrations.http import OwnsClient
from accolade.program.integrations import Salesforce
from accolade.service import Clock, system_clock
from accolade.service.connectors import SALESFORCE
from accolade.service.crm import Contact, CrmConfig, Upsert, UpsertResult, sync_due
from accolade.service.webhooks import DEFAULT_LEASE_SECONDS, DeliveryReport
from accolade.settings import Settings
from accolade.store.unit_of_work import Store

TOKEN_PATH = "/services/oauth2/token"
USER_AGENT = f"Accolade-Salesforce/{__version__}"
MAX_RECORDS = 200  # records in one sObject Collections request (its documented limit)
_MAX_REASON = 500
# Salesforce's whole-request errors worth trying again later (its API limits, a busy org).
_RETRYABLE_CODES = {"REQUEST_LIMIT_EXCEEDED", "SERVER_UNAVAILABLE", "UNABLE_TO_LOCK_ROW"}


class TokenRefused(Exception):
    """The token endpoint refused the client credentials (its words, without secrets)."""


@dataclass(frozen=True)
class Target:
    """Where a program's records go: the object and its external id field."""

    object: str
    external_id_field: str


def configured(settings: Settings) -> bool:
    return settings.salesforce_access_token is not None or (
        settings.salesforce_client_id is not None and settings.salesforce_client_secret is not None
    )


class SalesforceClient(OwnsClient):
    """Upserts records of one object by one external id field. A record Salesforce refuses
    (its per-record errors) is reported in ``refused``; 401 gets a new token (client
    credentials) and tries once more; a whole request refused with 4xx is a refusal (dead
    letters), unless its error code says to come back later; 5xx and the network's faults
    are retried."""

    def __init__(self, settings: Settings) -> None:
        if not configured(settings):
            raise InvalidInput(
                "set ACCOLADE_SALESFORCE_ACCESS_TOKEN, or ACCOLADE_SALESFORCE_CLIENT_ID and "
                "ACCOLADE_SALESFORCE_CLIENT_SECRET, for the Salesforce connector",
                field="salesforce_access_token",
            )
        self.settings = settings
        self.timeout = settings.salesforce_timeout_seconds
        self.token: str | None = None
        self.instance_url: str | None = settings.salesforce_instance_url
        if settings.salesforce_access_token is not None:
            self.token = settings.salesforce_access_token.get_secret_value()
        self.client = httpx.Client(
            timeout=self.timeout, follow_redirects=False, headers={"user-agent": USER_AGENT}
        )

    def upsert_for(self, config: CrmConfig) -> Upsert:
        """The upsert of a program's mapping: its object, by its external id field."""
        assert isinstance(config, Salesforce)
        return partial(self.upsert, Target(config.object, config.external_id_field))

    def upsert(self, target: Target, contacts: Sequence[Contact]) -> UpsertResult:
        # the sync sends records keyed by external id and records keyed by Id in separate calls
        by_id = bool(contacts) and contacts[0].record_id is not None
        records = [
            {
                "attributes": {"type": target.object},
                **dict(c.properties),
                **({"Id": c.record_id} if by_id else {target.external_id_field: c.email}),
            }
            for c in contacts
        ]
        body = {"allOrNone": False, "records": records}
        try:
            if self.token is None or self.instance_url is None:
                self._fetch_token()
            response = self._patch(target, body, by_id)
            if response.status_code == 401 and self._can_refresh():
                self._fetch_token()  # expired: the client credentials give a new one
                response = self._patch(target, body, by_id)
        except TokenRefused as exc:
            return UpsertResult(False, None, self._scrub(str(exc)))
        except httpx.TimeoutException:
            return UpsertResult(False, None, f"no answer within {self.timeout:g} s")
        except (httpx.HTTPError, httpx.InvalidURL, OSError) as exc:
            return UpsertResult(False, None, self._scrub(f"{type(exc).__name__}: {exc}"))
        status = response.status_code
        if 200 <= status < 300:
            return self._results(contacts, response, status)
        code, message = _error(response)
        reason = self._scrub(f"HTTP {status}: {code + ': ' if code else ''}{message}")
        if status == 401 or status == 408 or status >= 500 or code in _RETRYABLE_CODES:
            return UpsertResult(False, status, reason)
        return UpsertResult(False, status, reason, retryable=False)

    def _results(
        self, contacts: Sequence[Contact], response: httpx.Response, status: int
    ) -> UpsertResult:
        try:
            results = response.json()
        except ValueError:
            results = None
        if not isinstance(results, list) or len(results) != len(contacts):
            return UpsertResult(False, status, f"HTTP {status}: unexpected answer")
        refused: dict[str, str] = {}
        for contact, result in zip(contacts, results, strict=True):
            if isinstance(result, dict) and result.get("success") is True:
                continue
            errors = result.get("errors") if isinstance(result, dict) else None
            words = "; ".join(
                f"{e.get('statusCode', '')}: {e.get('message', '')}"
                for e in errors or []
                if isinstance(e, dict)
            )
            refused[contact.key] = self._scrub(words or "refused without a reason")
        return UpsertResult(True, status, refused=refused)

    def _patch(self, target: Target, body: object, by_id: bool) -> httpx.Response:
        version = self.settings.salesforce_api_version
        url = f"{(self.instance_url or '').rstrip('/')}/services/data/{version}/composite/sobjects"
        if not by_id:  # an upsert by the external id field; by Id, an update of the records
            url += f"/{target.object}/{target.external_id_field}"
        return self.client.patch(url, json=body, headers={"authorization": f"Bearer {self.token}"})

    def _can_refresh(self) -> bool:
        return (
            self.settings.salesforce_client_id is not None
            and self.settings.salesforce_client_secret is not None
        )

    def _fetch_token(self) -> None:
        """The OAuth 2.0 client credentials flow: a token, and the org's URL."""
        if not self._can_refresh():
            if self.instance_url is None:
                raise TokenRefused("set ACCOLADE_SALESFORCE_INSTANCE_URL with an access token")
            return
        secret = self.settings.salesforce_client_secret
        assert secret is not None
        response = self.client.post(
            self.settings.salesforce_login_url.rstrip("/") + TOKEN_PATH,
            data={
                "grant_type": "client_credentials",
                "client_id": self.settings.salesforce_client_id or "",
                "client_secret": secret.get_secret_value(),
            },
        )
        try:
            found = response.json()
        except ValueError:
            found = {}
        if response.status_code != 200 or not isinstance(found, dict):
            words = found.get("error_description") or found.get("error") or response.text[:200]
            raise TokenRefused(f"token: HTTP {response.status_code}: {words}")
        self.token = str(found["access_token"])
        if self.settings.salesforce_instance_url is None:
            self.instance_url = str(found["instance_url"])

    def _scrub(self, text: str) -> str:
        secrets = [self.token]
        if self.settings.salesforce_client_secret is not None:
            secrets.append(self.settings.salesforce_client_secret.get_secret_value())
        for secret in secrets:
            if secret:
                text = text.replace(secret, "[secret]")
        return text[:_MAX_REASON]


def sync_salesforce(
    store: Store,
    settings: Settings,
    client: SalesforceClient,
    *,
    clock: Clock = system_clock,
    stop: threading.Event | None = None,
) -> DeliveryReport:
    """One round of the Salesforce connector, with the retries of webhooks' settings."""
    return sync_due(
        store,
        None,
        kind=SALESFORCE,
        upsert_for=client.upsert_for,
        clock=clock,
        max_attempts=settings.webhook_max_attempts,
        backoff_seconds=settings.webhook_backoff_seconds,
        lease_seconds=max(DEFAULT_LEASE_SECONDS, 8 * settings.salesforce_timeout_seconds),
        stop=stop,
    )


def _error(response: httpx.Response) -> tuple[str, str]:
    """Salesforce's error code and message ([{"errorCode", "message"}]), or the body's start."""
    try:
        found: Any = response.json()
    except ValueError:
        return "", response.text[:200]
    first = found[0] if isinstance(found, list) and found else found
    if isinstance(first, dict) and isinstance(first.get("message"), str):
        return str(first.get("errorCode") or ""), str(first["message"])
    return "", response.text[:200]
