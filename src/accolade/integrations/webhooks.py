"""Webhooks over HTTP: the signed POST (Standard Webhooks) and the loop that delivers the
outbox, in its own process (`accolade worker`) or in a thread of `accolade serve`."""

from __future__ import annotations

import logging
import math
import threading
from contextlib import ExitStack
from datetime import datetime

import httpx
from standardwebhooks.webhooks import Webhook

from accolade import __version__
from accolade.integrations import salesforce
from accolade.integrations.http import OwnsClient
from accolade.integrations.hubspot import client_from, configured, sync_hubspot
from accolade.integrations.notices import configured_kinds, gate_from, poster_from, send_notices
from accolade.service import Clock, system_clock
from accolade.service.webhooks import DEFAULT_LEASE_SECONDS, SendResult, deliver_due
from accolade.settings import Settings
from accolade.store.unit_of_work import Store

log = logging.getLogger(__name__)
USER_AGENT = f"Accolade-Webhooks/{__version__}"
_MAX_REASON = 300


class HttpSender(OwnsClient):
    """Posts one message with the three Standard Webhooks headers; any 2xx is delivered.
    Receivers' and the network's faults come back as (False, status or None, reason)."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        # Redirects are not followed: a receiver that moved says so with a failed delivery.
        self.client = httpx.Client(
            timeout=timeout, follow_redirects=False, headers={"user-agent": USER_AGENT}
        )

    def __call__(
        self, url: str, secret: str, message_id: str, payload: str, timestamp: datetime, /
    ) -> SendResult:
        headers = {
            "content-type": "application/json",
            "webhook-id": message_id,
            "webhook-timestamp": str(math.floor(timestamp.timestamp())),
            "webhook-signature": Webhook(secret).sign(message_id, timestamp, payload),
        }
        try:
            # Streamed and left unread: what a receiver answers beyond its status is not ours.
            with self.client.stream(
                "POST", url, content=payload.encode(), headers=headers
            ) as response:
                status = response.status_code
        except httpx.TimeoutException:
            return False, None, f"no answer within {self.timeout:g} s"
        except httpx.ConnectError as exc:
            return False, None, f"cannot connect: {exc}"[:_MAX_REASON]
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            return False, None, f"{type(exc).__name__}: {exc}"[:_MAX_REASON]
        if 200 <= status < 300:
            return True, status, None
        return False, status, f"HTTP {status}"


def run_worker(
    store: Store,
    settings: Settings,
    *,
    stop: threading.Event,
    clock: Clock = system_clock,
    poll_seconds: float = 1.0,
) -> None:
    """Deliver due webhooks, sync the HubSpot connector's deliveries when its token is set,
    sync the Salesforce connector's when its credentials are set, and post Slack and
    Teams notices when a channel's webhook URL is set, until ``stop`` is set; waits
    ``poll_seconds`` only when there was nothing to do. A failing round (database away,
    say) is logged and tried again."""
    # The lease covers one send: httpx bounds each phase of a request by the timeout.
    lease = max(DEFAULT_LEASE_SECONDS, 4 * settings.webhook_timeout_seconds)
    with (
        HttpSender(settings.webhook_timeout_seconds) as send,
        ExitStack() as connectors,
    ):
        hubspot = connectors.enter_context(client_from(settings)) if configured(settings) else None
        crm = (
            connectors.enter_context(salesforce.SalesforceClient(settings))
            if salesforce.configured(settings)
            else None
        )
        chats = [
            connectors.enter_context(poster_from(settings, kind))
            for kind in configured_kinds(settings)
        ]
        gate = gate_from(settings)
        while not stop.is_set():
            try:
                report = deliver_due(
                    store,
                    send,
                    clock=clock,
                    max_attempts=settings.webhook_max_attempts,
                    backoff_seconds=settings.webhook_backoff_seconds,
                    lease_seconds=lease,
                    stop=stop,
                )
                idle = report.idle
                if hubspot is not None:
                    idle = (
                        sync_hubspot(store, settings, hubspot, clock=clock, stop=stop).idle and idle
                    )
                if crm is not None:
                    report = salesforce.sync_salesforce(
                        store, settings, crm, clock=clock, stop=stop
                    )
                    idle = report.idle and idle
                for chat in chats:
                    report = send_notices(store, settings, chat, gate, clock=clock, stop=stop)
                    idle = report.idle and idle
            except Exception:
                log.exception("webhook delivery round failed; next round in %g s", poll_seconds)
                stop.wait(poll_seconds)
                continue
            if idle:
                stop.wait(poll_seconds)


def start_in_process_worker(
    store: Store, settings: Settings
) -> tuple[threading.Thread, threading.Event]:
    """The embedded default: a daemon thread running ``run_worker``; set the event to stop
    it (then join the thread)."""
    stop = threading.Event()
    thread = threading.Thread(
        target=run_worker,
        args=(store, settings),
        kwargs={"stop": stop},
        name="accolade-webhooks",
        daemon=True,
    )
    thread.start()
    return thread, stop
