"""The access page: an admin creates console users, changes their role, disables and enables
them, creates API keys (the secret shown once) and revokes them; each change is an audit row
naming the admin. A viewer sees none of the buttons, and the endpoints refuse them."""

from __future__ import annotations

import pytest

from accolade.service.audit import list_audit
from accolade.service.console_users import list_users
from accolade.service.keys import list_keys
from tests.console.builders import PASSWORD, console_on, post


@pytest.fixture
def console(store):
    with console_on(store) as console:
        yield console


def actions(console, program=None):
    return [(e.actor, e.action, e.target) for e in list_audit(console.api.store, program).entries]


def test_admin_creates_a_user_and_the_audit_log_names_the_admin(console):
    admin = console.browser("admin", "root@example.com")

    done = post(
        admin,
        "/console/access/users",
        {"email": "bo@example.com", "role": "operator", "password": PASSWORD, "name": "Bo"},
    )

    assert done.status_code == 303, done.text
    assert "The user was created." in admin.get(done.headers["location"]).text
    assert actions(console)[0] == ("root@example.com", "console_user.created", "bo@example.com")
    assert console.sign_in(console.client(), "bo@example.com").status_code == 303


def test_a_short_password_is_refused_naming_the_field(console):
    admin = console.browser("admin")

    refused = post(
        admin,
        "/console/access/users",
        {"email": "bo@example.com", "role": "viewer", "password": "short"},
    )

    assert refused.status_code == 422
    assert "<strong>password</strong>: must be at least 12 characters" in refused.text
    assert [u.email for u in list_users(console.api.store)] == ["admin@example.com"]


def test_a_taken_email_is_a_conflict(console):
    admin = console.browser("admin")

    refused = post(
        admin,
        "/console/access/users",
        {"email": "admin@example.com", "role": "viewer", "password": PASSWORD},
    )

    assert refused.status_code == 409
    assert "has a console user already" in refused.text


def test_admin_changes_a_role_with_before_and_after_in_the_log(console):
    admin = console.browser("admin", "root@example.com")
    console.user("bo@example.com", "viewer")

    done = post(
        admin, "/console/access/users/role", {"email": "bo@example.com", "role": "operator"}
    )

    assert done.status_code == 303, done.text
    entry = list_audit(console.api.store).entries[0]
    assert (entry.actor, entry.action) == ("root@example.com", "console_user.role_changed")
    assert (entry.before["role"], entry.after["role"]) == ("viewer", "operator")


def test_an_admin_cannot_change_their_own_role(console):
    admin = console.browser("admin", "root@example.com")

    refused = post(
        admin, "/console/access/users/role", {"email": "root@example.com", "role": "viewer"}
    )

    assert refused.status_code == 403
    assert "cannot change your own role" in refused.text


def test_admin_disables_and_enables_a_user(console):
    admin = console.browser("admin", "root@example.com")
    bo = console.browser("operator", "bo@example.com")

    assert (
        post(admin, "/console/access/users/disable", {"email": "bo@example.com"}).status_code == 303
    )
    assert bo.get("/console/").status_code == 401  # the session ends at once
    assert (
        post(admin, "/console/access/users/enable", {"email": "bo@example.com"}).status_code == 303
    )

    assert [a for _, a, _ in actions(console)][:2] == [
        "console_user.enabled",
        "console_user.disabled",
    ]
    assert console.sign_in(console.client(), "bo@example.com").status_code == 303


def test_an_unknown_user_is_refused_naming_the_email(console):
    admin = console.browser("admin")

    refused = post(admin, "/console/access/users/disable", {"email": "ghost@example.com"})

    assert refused.status_code == 404
    assert "no console user" in refused.text


def test_admin_creates_a_key_shown_once_and_revokes_it(console):
    admin = console.browser("admin", "root@example.com")
    admin.get("/console/switch", params={"program": "partner"})

    created = post(
        admin, "/console/access/keys", {"name": "crm", "scope": ["events:write", "members:read"]}
    )

    assert created.status_code == 201, created.text
    assert "shown this once" in created.text
    key = next(k for k in list_keys(console.api.store, "partner") if k.name == "crm")
    assert key.scopes == ("events:write", "members:read")
    assert "acc_" + key.key_id in created.text
    assert "acc_" + key.key_id not in admin.get("/console/access").text
    revoked = post(admin, "/console/access/keys/revoke", {"key_id": key.key_id})
    assert revoked.status_code == 303
    assert actions(console, "partner")[:2] == [
        ("root@example.com", "api_key.revoked", key.key_id),
        ("root@example.com", "api_key.created", key.key_id),
    ]


def test_a_key_without_scopes_is_refused_naming_the_field(console):
    admin = console.browser("admin")

    refused = post(admin, "/console/access/keys", {"name": "crm"})

    assert refused.status_code == 422
    assert "<strong>scope</strong>" in refused.text


def test_a_key_of_another_program_cannot_be_revoked_from_this_one(console):
    admin = console.browser("admin")
    admin.get("/console/switch", params={"program": "partner"})
    other = next(iter(list_keys(console.api.store, "partner")), None)
    console.api.key(program="community")
    community = list_keys(console.api.store, "community")[0]
    assert other is None or other.key_id != community.key_id

    refused = post(admin, "/console/access/keys/revoke", {"key_id": community.key_id})

    assert refused.status_code == 404
    assert list_keys(console.api.store, "community")[0].revoked_at is None


def test_a_viewer_sees_no_admin_button(console):
    viewer = console.browser("viewer")
    console.api.key()

    page = viewer.get("/console/access").text

    for absent in ("Create user", "Change role", "Disable", "Create key", "Revoke"):
        assert absent not in page, absent
    assert "viewer@example.com" in page


@pytest.mark.parametrize(
    ("path", "data"),
    [
        (
            "/console/access/users",
            {"email": "x@example.com", "role": "admin", "password": PASSWORD},
        ),
        ("/console/access/users/role", {"email": "admin@example.com", "role": "viewer"}),
        ("/console/access/users/disable", {"email": "admin@example.com"}),
        ("/console/access/users/enable", {"email": "admin@example.com"}),
        ("/console/access/keys", {"name": "x", "scope": "events:write"}),
        ("/console/access/keys/revoke", {"key_id": "abc"}),
    ],
)
@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_an_admin_post_refuses_a_lesser_role(console, path, data, role):
    console.user("admin@example.com", "admin")
    client = console.browser(role)
    before = actions(console)

    refused = post(client, path, data)

    assert refused.status_code == 403
    assert f"this needs the admin role; {role}@example.com is {role}" in refused.text
    assert actions(console) == before
