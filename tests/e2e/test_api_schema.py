"""schemathesis against the app's own OpenAPI, on SQLite and PostgreSQL: every check it has
(no 5xx; status code, content type, headers and body within the schema; schema-valid data
accepted and schema-violating data refused, as schemathesis.toml tunes them), on data that fits
the schema and on data that does not. Each generated request goes to both databases."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, note, settings
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig

from accolade.api.app import create_app
from accolade.service.badge_credentials import generate_key
from accolade.service.keys import SCOPES, create_key
from accolade.settings import Settings
from accolade.store.unit_of_work import Store
from tests.e2e.builders import TEST_SECRET_KEY, Clock
from tests.integration.builders import publish_demo, quizzes, send

EXAMPLES = 20  # per operation, per mode
# The operations are dealt round-robin into this many tests per mode, so that pytest-xdist's
# workers share the work.
SHARDS = 6


@dataclass
class Target:
    schema: Any  # schemathesis' schema of the app on SQLite, which generates the requests
    headers: dict[str, str]
    apps: dict[str, Any]  # each request goes to the app on each database


@pytest.fixture
def target(stores, tmp_path):
    """The app on SQLite and on PostgreSQL, each with the demo program, the same events and
    the same key, set up as a server is (an Open Badges signing key: without one the
    credential routes answer 503, as documented). A generated request is sent to both:
    generating it costs schemathesis more than the two answers do."""
    badge_key = tmp_path / "badges.pem"
    generate_key(badge_key)
    key = None
    apps = {}
    for store in stores:
        publish_demo(store)
        send(store, *quizzes(3))  # a member ("alice") and events ("quiz-0".."quiz-2") to find
        if key is None:
            key = create_key(store, "partner", tuple(SCOPES))
        else:
            _copy_key(stores[0], store, key.key_id)
        apps[store.dialect] = create_app(
            Settings(
                rate_limit_per_minute=0,
                failed_auth_per_minute=0,
                secret_key=TEST_SECRET_KEY,  # type: ignore[arg-type]
                badge_key_file=str(badge_key),
            ),
            store,
            clock=Clock(),
            deliver_webhooks=False,
        )
    assert key is not None
    config = SchemathesisConfig.discover()  # schemathesis.toml at the root
    # The key as configuration, like `schemathesis run -H`: the auth checks know it is the
    # credential, and send requests without it or with a wrong one themselves.
    headers = {"Authorization": f"Bearer {key.key}"}
    config.projects.default.update(headers=headers)
    schema = schemathesis.openapi.from_asgi("/openapi.json", apps["sqlite"], config=config)
    return Target(schema, headers, apps)


def _copy_key(source: Store, destination: Store, key_id: str) -> None:
    with source.read() as uow:
        row = uow.keys.key(key_id)
    assert row is not None
    with destination.transaction() as uow:
        program = uow.programs.program_by_key(row.program_key)
        uow.keys.add_key(
            program.id, row.key_id, row.secret_hash, row.name, row.scopes, row.created_at
        )


@pytest.mark.parametrize("shard", range(SHARDS))
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_answers_within_its_schema(target, mode, shard):
    operations = [result.ok() for result in target.schema.get_all_operations()]
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
            for database, app in target.apps.items():
                note(f"on {database}")
                # every check, as schemathesis.toml says
                case.call_and_validate(headers=target.headers, app=app)

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
