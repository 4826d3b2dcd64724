"""`accolade crm`: the CRM connectors' side of the outbox, run once from the command line
(`accolade worker` and `accolade serve` run it in their delivery loop)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import typer

from accolade.cli.options import load_settings, open_store
from accolade.cli.output import out

if TYPE_CHECKING:  # the service layer loads the database's: imported by the command only
    from accolade.service.webhooks import DeliveryReport

crm_app = typer.Typer(
    help="CRM connectors (HubSpot, Salesforce): sync the outbox now.", no_args_is_help=True
)


@crm_app.command("sync")
def sync() -> None:
    """Sync every due delivery of the configured CRM connectors (HubSpot, Salesforce) now
    (rounds until none is due), then print what was delivered, retried later and given up."""
    from accolade.integrations import hubspot, salesforce

    settings = load_settings()
    store = open_store(settings)
    ran = False
    if salesforce.configured(settings):
        ran = True
        with salesforce.SalesforceClient(settings) as sf:
            _rounds("salesforce", lambda: salesforce.sync_salesforce(store, settings, sf))
    if hubspot.configured(settings) or not ran:
        # unconfigured, this says which settings HubSpot needs
        with hubspot.client_from(settings) as client:
            _rounds("hubspot", lambda: hubspot.sync_hubspot(store, settings, client))


def _rounds(name: str, round_: Callable[[], DeliveryReport]) -> None:
    delivered = failed = dead = 0
    while True:
        report = round_()
        delivered, failed, dead = (
            delivered + report.delivered,
            failed + report.failed,
            dead + report.dead,
        )
        # failures wait for their backoff; anything else may have left more due
        if not (report.delivered or report.dead or report.fanned_out):
            break
    out.print(f"{name}: {delivered} delivered, {failed} to retry, {dead} dead")
