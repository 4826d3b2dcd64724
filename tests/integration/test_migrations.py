"""Alembic migrations: an empty database reaches head, and the models need no new revision."""

from __future__ import annotations

from datetime import date

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from accolade.service import referrals as ref
from accolade.service.ingest import ingest_batch
from accolade.service.keys import authenticate, create_key
from accolade.service.programs import publish
from accolade.store.database import alembic_config, at_head, migrate
from accolade.store.tables import metadata
from accolade.store.unit_of_work import Store

from .builders import engagement_rollup, publish_demo

TABLES = {t.name for t in metadata.sorted_tables}


@pytest.mark.empty_database
def test_upgrading_an_empty_database_reaches_head(store: Store) -> None:
    assert set(inspect(store.engine).get_table_names()) == set()
    assert not at_head(store.engine)

    migrate(store.engine)

    assert at_head(store.engine)
    assert set(inspect(store.engine).get_table_names()) == TABLES | {"alembic_version"}
    assert publish_demo(store).version == 1


@pytest.mark.empty_database
def test_migrating_twice_changes_nothing(store: Store) -> None:
    migrate(store.engine)
    publish_demo(store)

    migrate(store.engine)

    assert at_head(store.engine)
    assert publish_demo(store).new is False


def test_autogenerate_finds_no_change_between_models_and_migrations(store: Store) -> None:
    with store.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "target_metadata": metadata}
        )
        changes = compare_metadata(context, metadata)

    assert changes == [], f"autogenerate would write a revision for: {changes}"


def test_downgrade_to_base_and_upgrade_again_reaches_head(store: Store) -> None:
    config = alembic_config(store.engine)

    command.downgrade(config, "base")

    assert set(inspect(store.engine).get_table_names()) <= {"alembic_version"}
    migrate(store.engine)
    assert at_head(store.engine)
    assert set(inspect(store.engine).get_table_names()) == TABLES | {"alembic_version"}


def test_the_schema_head_commands_check_is_alembics_newest_revision(store: Store) -> None:
    from alembic.script import ScriptDirectory

    from accolade.store.database import SCHEMA_HEAD

    newest = ScriptDirectory.from_config(alembic_config(store.engine)).get_current_head()
    assert newest == SCHEMA_HEAD, "update SCHEMA_HEAD in store/database.py with the new revision"


@pytest.mark.empty_database
def test_opening_a_database_without_schema_says_to_run_init(store: Store) -> None:
    from accolade.errors import NotFound
    from accolade.store.database import require_head

    with pytest.raises(NotFound) as caught:
        require_head(store.engine)
    assert caught.value.field == "ACCOLADE_DATABASE_URL"
    assert "accolade init" in caught.value.message


def test_keys_outlive_the_revision_that_stopped_storing_token_secrets(store: Store) -> None:
    publish_demo(store)
    keys = [create_key(store, "partner", ("members:read",)).key for _ in range(2)]

    command.downgrade(alembic_config(store.engine), "0009")

    with store.engine.connect() as conn:
        secrets = [r[0] for r in conn.execute(text("SELECT token_secret FROM api_keys"))]
    assert len(set(secrets)) == 2 and all(len(bytes.fromhex(s)) == 32 for s in secrets)
    migrate(store.engine)
    assert "token_secret" not in {c["name"] for c in inspect(store.engine).get_columns("api_keys")}
    for key in keys:
        assert authenticate(store, key, secret=b"s" * 32).program_key == "partner"


def test_referrals_outlive_the_revision_that_counts_iso_4217_minor_units(store: Store) -> None:
    publish(store, "key: refer\nname: R\nactions:\n  - {key: login, event: login, points: 1}\n")
    login = {"id": "l", "type": "login", "member": "ann", "occurred_at": "2026-10-01T00:00:00Z"}
    ingest_batch(store, "refer", [(1, login)])
    yen = ref.submit(store, "refer", "ann", "Acme", contact_email="jo@acme.com").referral_id
    ref.move(store, "refer", yen, "win", amount="1250000", currency="JPY")
    dinar = ref.submit(store, "refer", "ann", "Hooli", domain="hooli.com").referral_id
    ref.move(store, "refer", dinar, "win", amount="1.234", currency="KWD")
    dollar = ref.submit(store, "refer", "ann", "Initech S.A.").referral_id
    ref.move(store, "refer", dollar, "win", amount="12500.50", currency="USD")

    command.downgrade(alembic_config(store.engine), "0010")
    with store.engine.begin() as conn:
        amounts = dict(conn.execute(text("SELECT currency, amount FROM referrals")).fetchall())
        # in hundredths, as every amount was stored before (KWD rounded to them)
        assert amounts == {"JPY": 125_000_000, "KWD": 123, "USD": 1_250_050}
        # the keys the rule before this revision gave them
        for key, rid in (("sales.acme.com", yen), ("name:initechsa", dollar)):
            conn.execute(
                text("UPDATE referrals SET prospect_key = :k WHERE referral_id = :r"),
                {"k": key, "r": rid},
            )
    migrate(store.engine)

    shown = {r.currency: str(r.amount) for r in ref.referrals(store, "refer").items}
    assert shown == {"JPY": "1250000", "KWD": "1.230", "USD": "12500.50"}
    assert ref.submit(store, "refer", "ann", "Acme", domain="acme.com").duplicate_of == yen
    assert ref.submit(store, "refer", "ann", "Initech").duplicate_of == dollar


def test_the_engagement_rollup_revision_fills_it_from_the_ledger(store: Store) -> None:
    publish(
        store,
        "key: z\nname: Z\ntimezone: Asia/Tokyo\nactions:\n  - {key: a, event: a, points: 5}\n",
    )
    sent = [
        {"id": f"e{i}", "type": "a", "member": m, "occurred_at": at}
        for i, (m, at) in enumerate(
            [
                ("ann", "2026-01-31T16:00:00Z"),
                ("ann", "2026-02-01T01:00:00Z"),
                ("ben", "2026-02-03T00:00:00Z"),
            ]
        )
    ]
    ingest_batch(store, "z", list(enumerate(sent, 1)))
    kept = engagement_rollup(store)
    # 1 February in Tokyo from 15:00 UTC: three events on two local days
    assert [(day, events, points) for _, _, day, _, _, events, points in kept[0]] == [
        (date(2026, 2, 1).toordinal(), 2, 10),
        (date(2026, 2, 3).toordinal(), 1, 5),
    ]

    command.downgrade(alembic_config(store.engine), "0022")
    migrate(store.engine)

    assert engagement_rollup(store) == kept
