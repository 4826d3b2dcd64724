"""`accolade program publish` and `rollback` write their audit rows, the actor `cli`."""

from __future__ import annotations

from accolade.service.audit import list_audit
from accolade.store.unit_of_work import Store
from tests.cli.builders import DEMO_PROGRAM, ok
from tests.cli.test_cli_program import second_version


def test_publish_and_rollback_are_audited_as_the_cli(tmp_path):
    ok(tmp_path, "program", "publish", DEMO_PROGRAM)
    ok(tmp_path, "program", "publish", second_version(tmp_path), "--notes", "Leads pay more")
    ok(tmp_path, "program", "rollback")

    store = Store.open(f"sqlite:///{tmp_path}/a.db")
    try:
        entries = list_audit(store, "partner").entries[::-1]
    finally:
        store.close()

    assert [(e.actor, e.action, e.before, e.after["version"]) for e in entries] == [
        ("cli", "program.published", {"version": None}, 1),
        ("cli", "program.published", {"version": 1}, 2),
        ("cli", "program.rolled_back", {"version": 2}, 1),
    ]
    assert entries[1].after["notes"] == "Leads pay more"
