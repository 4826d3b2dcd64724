"""schemathesis against the app's own OpenAPI: no 5xx, and every response matches its
schema (status code, content type, body), with examples bounded to keep the suite quick."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accolade.api.app import create_app
from accolade.service.keys import SCOPES, create_key
from accolade.settings import Settings
from accolade.store.unit_of_work import Store
from tests.e2e.builders import Clock
from tests.integration.builders import publish_demo, quizzes, send

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
KEY: dict[str, str] = {}


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory):
    store = Store.open("sqlite:///" + str(tmp_path_factory.mktemp("schema") / "a.db"))
    publish_demo(store)
    send(store, *quizzes(3))  # a member ("alice") and events ("quiz-0".."quiz-2") to find
    KEY["Authorization"] = "Bearer " + create_key(store, "partner", tuple(SCOPES)).key
    app = create_app(
        Settings(rate_limit_per_minute=0), store, clock=Clock(), deliver_webhooks=False
    )
    yield schemathesis.openapi.from_asgi("/openapi.json", app)
    store.close()


def test_api_answers_within_its_schema(api_schema):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 15, [o.label for o in operations]
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=15,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        def answers_within_schema(case):
            case.call_and_validate(headers=KEY, checks=CHECKS)

        answers_within_schema()
