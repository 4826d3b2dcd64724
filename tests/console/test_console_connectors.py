"""A CRM connector's refused payload goes dead with the target's own words, shown on the
console's webhooks page beside the connector's subscription, and by the API's deliveries of
that subscription (issue 24's reliability)."""

from __future__ import annotations

from accolade.service.ingest import ingest_batch
from accolade.service.programs import publish
from accolade.web.console.web import PROGRAM_COOKIE
from tests.console.builders import console_on
from tests.integration.test_hubspot import (  # noqa: F401  (hubspot, token_file: fixtures)
    EXAMPLE,
    MAPPING,
    hubspot,
    lead_events,
    sync,
    token_file,
)


def test_a_refused_contact_is_a_dead_letter_with_hubspots_words(store, hubspot, token_file):  # noqa: F811
    with console_on(store) as console:
        clock = console.api.clock
        publish(store, EXAMPLE + MAPPING, clock=clock)
        events = lead_events("lead-9", "nine@example.invalid")
        ingest_batch(store, "readiness", list(enumerate(events)), clock=clock)
        report = sync(store, hubspot, token_file, clock)
        assert report.dead == 1

        viewer = console.browser("viewer")
        viewer.cookies.set(PROGRAM_COOKIE, "readiness", path="/console")
        page = viewer.get("/console/operations/webhooks")

        admin = console.api.key("webhooks:admin", program="readiness")
        [connector] = console.api.client.get("/v1/webhooks", headers=admin).json()
        deliveries = console.api.client.get(
            f"/v1/webhooks/{connector['id']}/deliveries", headers=admin
        ).json()

    assert page.status_code == 200
    assert "hubspot:contacts" in page.text  # the connector's subscription
    dead = page.text.split('id="dead-title"')[1]
    assert "Property values were not valid: email nine@example.invalid" in dead
    assert connector["url"] == "hubspot:contacts"
    [refused] = [d for d in deliveries if d["status"] == "dead"]
    assert "Property values were not valid: email nine@example.invalid" in refused["last_error"]
