"""`accolade crm`: the CRM connectors' side of the outbox, run once from the command line
(`accolade worker` and `accolade serve` run it in their delivery loop)."""

from __future__ import annotations

import typer

from accolade.cli.options import load_settings, open_store
from accolade.cli.output import out

crm_app = typer.Typer(help="CRM connectors (HubSpot): sync the outbox now.", no_args_is_help=True)


@crm_app.command("sync")
def sync() -> None:
    """Sync every due HubSpot delivery now (rounds until none is due), then print what was
    delivered, retried later and given up."""
    from accolade.integrations.hubspot import client_from, sync_hubspot

    settings = load_settings()
    store = open_store(settings)
    delivered = failed = dead = 0
    with client_from(settings) as client:
        while True:
            report = sync_hubspot(store, settings, client)
            delivered, failed, dead = (
                delivered + report.delivered,
                failed + report.failed,
                dead + report.dead,
            )
            # failures wait for their backoff; anything else may have left more due
            if not (report.delivered or report.dead or report.fanned_out):
                break
    out.print(f"hubspot: {delivered} delivered, {failed} to retry, {dead} dead")
