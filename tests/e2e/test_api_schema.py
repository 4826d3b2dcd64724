"""schemathesis against the app's own OpenAPI, on SQLite and PostgreSQL: every check it has
(no 5xx; status code, content type, headers and body within the schema; schema-valid data
accepted and schema-violating data refused, as schemathesis.toml tunes them), on data that fits
the schema and on data that does not."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig

from accolade.api.app import create_app
from accolade.service.keys import SCOPES, create_key
from accolade.settings import Settings
from tests.e2e.builders import TEST_SECRET_KEY, Clock
from tests.integration.builders import publish_demo, quizzes, send

EXAMPLES = 20  # per operation, per mode, per database
# The operations are dealt round-robin into this many tests per mode and database, each on a
# fresh store, so that pytest-xdist's workers share the ~40 s of work.
SHARDS = 4


@pytest.fixture
def api_schema(store):
    publish_demo(store)
    send(store, *quizzes(3))  # a member ("alice") and events ("quiz-0".."quiz-2") to find
    key = create_key(store, "partner", tuple(SCOPES)).key
    app = create_app(
        Settings(rate_limit_per_minute=0, failed_auth_per_minute=0, secret_key=TEST_SECRET_KEY),  # type: ignore[arg-type]
        store,
        clock=Clock(),
        deliver_webhooks=False,
    )
    config = SchemathesisConfig.discover()  # schemathesis.toml at the root
    # The key as configuration, like `schemathesis run -H`: the auth checks know it is the
    # credential, and send requests without it or with a wrong one themselves.
    headers = {"Authorization": f"Bearer {key}"}
    config.projects.default.update(headers=headers)
    return schemathesis.openapi.from_asgi("/openapi.json", app, config=config), headers


@pytest.mark.parametrize("shard", range(SHARDS))
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_answers_within_its_schema(api_schema, mode, shard):
    schema, headers = api_schema
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 45, [o.label for o in operations]
    if mode is GenerationMode.NEGATIVE:
        operations = [o for o in operations if _has_data_to_break(o)]
    for operation in operations[shard::SHARDS]:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def answers_within_schema(case):
            case.call_and_validate(headers=headers)  # every check, as schemathesis.toml says

        answers_within_schema()


def _has_data_to_break(operation) -> bool:
    """Whether a request can break this operation's schema. The key is fixed by the
    configuration, and any text is a valid unconstrained path parameter: an operation with
    nothing else has nothing negative to send."""
    headers = [h for h in operation.headers if h.name.lower() != "authorization"]
    constrained_path = [
        p
        for p in operation.path_parameters
        if set(p.definition["schema"]) - {"type", "title"}
        or p.definition["schema"].get("type") != "string"
    ]
    return bool(operation.query or operation.body or headers or constrained_path)
