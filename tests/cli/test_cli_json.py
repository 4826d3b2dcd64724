"""`--json` on the read commands: one JSON document on standard output, what the API answers
for the same thing (the same service function, serialised the same way).

A read command shows what the database holds and changes nothing. Every command is listed here
as a read (it must take `--json`) or as something else, with why; a new command that is in
neither list fails `test_every_command_is_a_read_or_says_why_not`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main

from accolade.cli import app
from tests.assessment_program import ASSESSMENT_PROGRAM, HOT_ANSWERS, assessment_events
from tests.cli.builders import ROOT, error_lines, event, ok, run, write_jsonl
from tests.cli.test_cli_experiments import pilot

EXAMPLES = ROOT / "examples"

# read command -> the API operation that answers the same thing (its JSON is the same)
READS = {
    "accolade member show": "GET /v1/members/{member_id}",
    "accolade explain": "GET /v1/members/{member_id}/explain",
    "accolade program versions": "GET /v1/program/versions",
    "accolade keys list": "(none: keys are made and listed from the command line only)",
    "accolade users list": "(none yet: the console's access page will list users, issue 22)",
    "accolade quests funnel": "GET /v1/quests, GET /v1/quests/{quest}/funnel",
    "accolade challenges stats": "GET /v1/challenges, GET /v1/challenges/{challenge}",
    "accolade leaderboards list": "GET /v1/leaderboards",
    "accolade leaderboards show": "GET /v1/leaderboards/{board}",
    "accolade leaderboards standing": "GET /v1/leaderboards/{board}/standings/{subject}",
    "accolade rewards list": "GET /v1/rewards",
    "accolade rewards redemptions": "GET /v1/redemptions",
    "accolade referrals list": "GET /v1/referrals",
    "accolade referrals pipeline": "GET /v1/referrals/pipeline",
    "accolade assessments show": "GET /v1/assessments/{assessment}/results/{lead}",
    "accolade assessments report": "GET /v1/assessments/{assessment}/report",
    "accolade assessments find": "GET /v1/assessments/{assessment}/results",
    "accolade recommend show": "GET /v1/members/{member_id}/next",
    "accolade references match": "POST /v1/references/match (records nothing)",
    "accolade references show": "GET /v1/references/requests/{request_id}",
    "accolade experiments list": "GET /v1/experiments",
    "accolade experiments report": "GET /v1/experiments/{experiment}",
    "accolade program diff": "GET /v1/program/diff",
    "accolade analytics metrics": "GET /v1/analytics",
    "accolade analytics report": "GET /v1/analytics/{metric}",
    "accolade analytics members": "GET /v1/analytics/{metric}/members",
}
# every other command, and why it is not a read
OTHERS = {
    "accolade init": "creates or migrates the database, publishes a program",
    "accolade badges keygen": "writes a key file; prints only its key id",
    "accolade recommend train": "writes: a trained model for the active version",
    "accolade crm sync": "writes: delivers the CRM connectors' due outbox messages",
    "accolade demo": "sets up the demo and serves the API",
    "accolade serve": "serves the API",
    "accolade worker": "delivers webhooks until stopped",
    "accolade openapi": "prints a JSON document already",
    "accolade generate-events": "writes a file",
    "accolade keys create": "writes: a new key",
    "accolade keys revoke": "writes: revokes a key",
    "accolade users create": "writes: a console user and its audit row",
    "accolade program validate": "checks a file, reads nothing stored: its answer is the exit code "
    "and one error line per problem",
    "accolade program publish": "writes: a new version and its audit row",
    "accolade program rollback": "writes: the active version and its audit row",
    "accolade program simulate": "writes the record that the draft was simulated; its --json is "
    "the answer of POST /v1/program/simulate (tests/cli/test_cli_program_simulate.py)",
    "accolade ingest": "writes: events",
    "accolade reverse": "writes: a reversal",
    "accolade member update": "writes: a member.updated event (its --json is the member after)",
    "accolade replay": "writes: rebuilds every member",
    "accolade challenges close": "writes: closes windows, pays winners",
    "accolade leaderboards close": "writes: rolls and closes windows, pays prizes",
    "accolade rewards redeem": "writes: a redemption",
    "accolade rewards approve": "writes: a decision",
    "accolade rewards fulfil": "writes: a decision",
    "accolade rewards reject": "writes: a decision",
    "accolade rewards cancel": "writes: a decision",
    "accolade rewards codes": "writes: codes",
    "accolade points expire": "writes: expiry entries",
    "accolade referrals submit": "writes: a referral",
    "accolade referrals move": "writes: a stage",
    "accolade references request": "writes: a request",
    "accolade references ask": "writes: asks",
    "accolade references answer": "writes: an answer",
    "accolade experiments decide": "writes: a decision",
}


def leaf_commands(command: Any = None, path: str = "accolade") -> Iterator[tuple[str, Any]]:
    command = command or typer.main.get_command(app)
    if not hasattr(command, "commands"):
        yield path, command
        return
    for name, sub in command.commands.items():
        yield from leaf_commands(sub, f"{path} {name}")


COMMANDS = dict(leaf_commands())


def test_every_command_is_a_read_or_says_why_not():
    unlisted = sorted(COMMANDS.keys() - READS.keys() - OTHERS.keys())
    assert not unlisted, (
        f"{unlisted}: a read command goes in READS and takes --json; any other in OTHERS, with why"
    )
    assert not READS.keys() & OTHERS.keys()
    assert READS.keys() | OTHERS.keys() <= COMMANDS.keys(), "a listed command is gone"


@pytest.mark.parametrize("path", sorted(READS))
def test_read_command_takes_json(path):
    options = {opt for param in COMMANDS[path].params for opt in param.opts}
    assert "--json" in options, f"`{path}` is a read command: it takes --json"


def partner_events(tmp_path: Path) -> Path:
    """alice: two quizzes (Certified User), a lead; bob: one video."""
    return write_jsonl(
        tmp_path / "partner.jsonl",
        [
            event("q1", "quiz.passed", at="2026-05-01T14:00:00Z", quiz="q1"),
            event("q2", "quiz.passed", at="2026-05-02T14:00:00Z", quiz="q2"),
            event("l1", "lead.registered", at="2026-05-03T14:00:00Z", qualified=True),
            event("v1", "video.watched", "bob", at="2026-05-03T15:00:00Z", duration_seconds=400),
        ],
    )


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    """One database with the demo program, the example programs and their events, a redemption,
    a won referral, a reference request with an ask and a closed challenge: what every read
    command reads. The tests only read it (the `api` fixture adds its keys)."""
    tmp = tmp_path_factory.mktemp("json")
    ok(tmp, "program", "publish", EXAMPLES / "partner-program.yaml")
    ok(tmp, "ingest", partner_events(tmp), "-p", "partner")
    for program, key, events in [
        ("onboarding-quest", "onboarding", "onboarding-events"),
        ("leaderboards", "advocates", "leaderboards-events"),
        ("rewards", "advocates_store", "rewards-events"),
    ]:
        ok(tmp, "program", "publish", EXAMPLES / f"{program}.yaml")
        ok(tmp, "ingest", EXAMPLES / f"{events}.jsonl", "-p", key)
    store = ("-p", "advocates_store")
    ok(tmp, "rewards", "redeem", "ana", "speaker_slot", "--id", "talk-1", *store)
    ok(tmp, "referrals", "submit", "ben", "Acme Inc", "--id", "L-9", *store)
    ok(tmp, "referrals", "move", "L-9", "win", "--amount", "48000", "--currency", "EUR", *store)
    ok(tmp, "references", "request", "-c", "industry=fintech", "--id", "opp-77", *store)
    ok(tmp, "references", "ask", "opp-77", "chloe", *store)
    ok(tmp, "challenges", "close", "-p", "onboarding")
    pilot(tmp)  # program "pilot", with an experiment and its arms
    (tmp / "diag.yaml").write_text(ASSESSMENT_PROGRAM, encoding="utf-8")
    ok(tmp, "program", "publish", tmp / "diag.yaml")
    diag = write_jsonl(tmp / "diag.jsonl", assessment_events("ann", HOT_ANSWERS))
    ok(tmp, "ingest", diag, "-p", "diag")  # program "diag": ann's completed assessment
    ok(tmp, "experiments", "decide", "webinar_points", "--decision", "ship", "--by", "D",
       "--reason", "lift", "-p", "pilot")  # fmt: skip
    return tmp


def read_json(db: Path, *args: str) -> Any:
    result = ok(db, *args, "--json")
    assert result.stderr == ""
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def api(db) -> Iterator[Callable[..., Any]]:
    """``api(program, "GET", "/v1/...")``: the API's JSON, with a key of that program."""
    from fastapi.testclient import TestClient

    from accolade.api.app import create_app
    from accolade.service.keys import SCOPES as ALL
    from accolade.service.keys import create_key
    from accolade.settings import Settings
    from accolade.store.unit_of_work import Store

    url = f"sqlite:///{db}/a.db"
    store = Store.open(url, migrate_schema=False)
    app_ = create_app(Settings(database_url=url), store, deliver_webhooks=False)
    keys: dict[str, str] = {}
    with TestClient(app_) as client:

        def call(program: str, method: str, path: str, body: Any = None) -> Any:
            if program not in keys:
                keys[program] = create_key(store, program, tuple(ALL), "test").key
            headers = {"Authorization": f"Bearer {keys[program]}"}
            response = client.request(method, path, headers=headers, json=body)
            assert response.status_code == 200, response.text
            return response.json()

        yield call
    store.close()


# (command, program, the API request that answers the same): their JSON is equal
SAME_AS_API = [
    (["member", "show", "alice"], "partner", ("GET", "/v1/members/alice")),
    (["explain", "alice"], "partner", ("GET", "/v1/members/alice/explain")),
    (["program", "versions"], "partner", ("GET", "/v1/program/versions")),
    (
        ["assessments", "show", "readiness", "ann"],
        "diag",
        ("GET", "/v1/assessments/readiness/results/ann"),
    ),
    (["assessments", "report", "readiness"], "diag", ("GET", "/v1/assessments/readiness/report")),
    (["recommend", "show", "alice"], "partner", ("GET", "/v1/members/alice/next")),
    (
        ["assessments", "find", "readiness", "ann@example.com"],
        "diag",
        ("GET", "/v1/assessments/readiness/results?email=ann%40example.com"),
    ),
    (["quests", "funnel"], "onboarding", ("GET", "/v1/quests")),
    (["quests", "funnel", "onboarding"], "onboarding", ("GET", "/v1/quests/onboarding/funnel")),
    (["challenges", "stats"], "onboarding", ("GET", "/v1/challenges")),
    (
        ["challenges", "stats", "may_quiz_sprint", "--by", "cohort"],
        "onboarding",
        ("GET", "/v1/challenges/may_quiz_sprint?by=cohort"),
    ),
    (["leaderboards", "list"], "advocates", ("GET", "/v1/leaderboards")),
    (
        ["leaderboards", "show", "regional", "--window", "2026-05", "--partition", "region=EMEA"],
        "advocates",
        ("GET", "/v1/leaderboards/regional?window=2026-05&partition=region:EMEA"),
    ),
    (
        ["leaderboards", "standing", "all_time", "chloe", "--around", "2"],
        "advocates",
        ("GET", "/v1/leaderboards/all_time/standings/chloe?around=2"),
    ),
    (["rewards", "list"], "advocates_store", ("GET", "/v1/rewards")),
    (["rewards", "list", "--member", "ana"], "advocates_store", ("GET", "/v1/rewards?member=ana")),
    (
        ["rewards", "redemptions", "--status", "requested"],
        "advocates_store",
        ("GET", "/v1/redemptions?status=requested"),
    ),
    (["referrals", "list"], "advocates_store", ("GET", "/v1/referrals")),
    (["referrals", "pipeline"], "advocates_store", ("GET", "/v1/referrals/pipeline")),
    (
        ["references", "match", "-c", "industry=fintech", "-c", "region=EMEA"],
        "advocates_store",
        (
            "POST",
            "/v1/references/match",
            {"criteria": {"industry": "fintech", "region": "EMEA"}},
        ),
    ),
    (
        ["references", "show", "opp-77"],
        "advocates_store",
        ("GET", "/v1/references/requests/opp-77"),
    ),
    (["experiments", "list"], "pilot", ("GET", "/v1/experiments")),
    (
        ["experiments", "report", "webinar_points"],
        "pilot",
        ("GET", "/v1/experiments/webinar_points"),
    ),
    (["program", "diff", "1", "1"], "pilot", ("GET", "/v1/program/diff?from=1&to=1")),
    (["analytics", "metrics"], "pilot", ("GET", "/v1/analytics")),
    (
        ["analytics", "report", "activation", "--from", "2024-01-01", "--to", "2024-01-31"],
        "pilot",
        ("GET", "/v1/analytics/activation?from=2024-01-01&to=2024-01-31"),
    ),
    (
        [
            *("analytics", "report", "active", "--from", "2024-01-01", "--to", "2024-01-14"),
            *("--interval", "week", "--by", "tier"),
        ],
        "pilot",
        ("GET", "/v1/analytics/active?from=2024-01-01&to=2024-01-14&interval=week&by=tier"),
    ),
    (
        [
            *("analytics", "members", "activation", "--measure", "activated"),
            *("--from", "2024-01-01", "--to", "2024-01-31", "--limit", "3"),
        ],
        "pilot",
        (
            "GET",
            "/v1/analytics/activation/members?measure=activated&from=2024-01-01"
            "&to=2024-01-31&limit=3",
        ),
    ),
]


def command_of(args: list[str]) -> str:
    words = ["accolade"]
    for arg in args:
        words.append(arg)
        if " ".join(words) in COMMANDS:
            return " ".join(words)
    raise AssertionError(f"no command in {args}")


NO_API = {"accolade keys list", "accolade users list"}  # no API lists keys or console users


def test_every_read_command_but_keys_and_users_list_is_compared_with_the_api():
    compared = {command_of(args) for args, _, _ in SAME_AS_API}
    assert READS.keys() - compared == NO_API


@pytest.mark.parametrize(
    ("args", "program", "request_"),
    SAME_AS_API,
    ids=[" ".join(args) for args, _, _ in SAME_AS_API],
)
def test_json_is_what_the_api_answers(db, api, args, program, request_):
    options = {opt for param in COMMANDS[command_of(args)].params for opt in param.opts}
    chosen = ("-p", program) if "-p" in options else ()  # `analytics metrics` is every program's
    assert read_json(db, *args, *chosen) == api(program, *request_)


def test_member_show_json_gives_balances_tier_badges_and_entries(db):
    view = read_json(db, "member", "show", "alice", "-p", "partner")
    assert list(view)[:12] == [
        "member",
        "team",
        "company",
        "attributes",
        "balance",
        "lifetime",
        "tier",
        "tier_name",
        "benefits",
        "next_tier",
        "next_tier_name",
        "points_to_next_tier",
    ]
    assert (view["member"], view["balance"], view["tier"], view["next_tier"]) == (
        "alice",
        700,
        "bronze",
        "silver",
    )
    assert (view["tier_name"], view["next_tier_name"]) == ("Bronze", "Silver")
    assert [b["key"] for b in view["badges"]] == ["certified_user"]
    assert view["recent"][0]["event_id"] == "l1"
    assert view["recent"][0]["occurred_at"] == "2026-05-03T14:00:00Z"


def test_explain_json_adds_up_to_the_balance(db):
    lines = read_json(db, "explain", "alice", "-p", "partner")
    assert {line["event_id"] for line in lines} == {"q1", "q2", "l1"}
    assert sum(line["points"] for line in lines) == 700
    assert all(line["version"] == 1 for line in lines)


def test_program_versions_json_marks_the_active_one(db):
    [version] = read_json(db, "program", "versions", "-p", "onboarding")
    assert version["version"] == 1 and version["active"] is True
    assert len(version["hash"]) == 64


def test_keys_list_json_gives_ids_names_and_scopes_never_secrets(tmp_path):
    ok(tmp_path, "init")
    created = ok(tmp_path, "keys", "create", "--scope", "members:read", "--name", "crm")
    secret = next(w for w in created.stdout.split() if w.startswith("acc_"))
    text = ok(tmp_path, "keys", "list", "--json").stdout
    [key] = json.loads(text)
    assert key == {
        "key_id": secret.split("_")[1],
        "name": "crm",
        "scopes": ["members:read"],
        "created_at": key["created_at"],
        "revoked_at": None,
    }
    assert secret.split("_", 2)[2] not in text


def test_quests_funnel_json_counts_each_step(db):
    funnel = read_json(db, "quests", "funnel", "onboarding", "-p", "onboarding")
    assert (funnel["started"], funnel["completed"]) == (6, 2)
    assert [(s["key"], s["completed"], s["drop_off"]) for s in funnel["steps"]] == [
        ("welcome_video", 6, 0),
        ("profile", 5, 1),
        ("core_quiz", 4, 1),
        ("invite", 2, 2),
    ]


def test_challenges_stats_json_gives_completion_and_winners(db):
    [stats] = read_json(db, "challenges", "stats", "-p", "onboarding")
    assert stats["key"] == "may_quiz_sprint"
    assert (stats["status"], stats["eligible"], stats["reached"]) == ("closed", 6, 4)
    assert stats["winners"] == ["m-03", "m-21", "m-08"]


def test_leaderboards_json_gives_pages_and_standings(db):
    boards = read_json(db, "leaderboards", "list", "-p", "advocates")
    assert [b["key"] for b in boards][:2] == ["all_time", "this_week"]
    page = read_json(db, "leaderboards", "show", "all_time", "-p", "advocates")
    assert [(r["rank"], r["subject"], r["score"]) for r in page["rows"]] == [
        (1, "ana", 1000),
        (2, "ben", 700),
        (3, "dan", 210),
        (4, "chloe", 200),
    ]
    standing = read_json(db, "leaderboards", "standing", "all_time", "chloe", "-p", "advocates")
    assert (standing["rank"], standing["total"], standing["gap"]) == (4, 4, 10)


def test_rewards_json_gives_the_catalogue_and_the_approval_queue(db):
    items = read_json(db, "rewards", "list", "--member", "ana", "-p", "advocates_store")
    slot = next(i for i in items if i["key"] == "speaker_slot")
    assert (slot["price"], slot["approval"], slot["left"]) == (15000, True, 5)
    page = read_json(db, "rewards", "redemptions", "--status", "requested", "-p", "advocates_store")
    assert [(r["redemption_id"], r["member"], r["price"]) for r in page["items"]] == [
        ("talk-1", "ana", 15000)
    ]
    assert page["next_before"] is None


def test_referrals_json_gives_amounts_as_decimal_strings(db):
    [referral] = read_json(db, "referrals", "list", "-p", "advocates_store")["items"]
    assert (referral["referral_id"], referral["status"]) == ("L-9", "won")
    assert (referral["amount"], referral["currency"]) == ("48000.00", "EUR")
    [row] = read_json(db, "referrals", "pipeline", "-p", "advocates_store")
    assert (row["key"], row["won"], row["won_amount"]) == ("ben", 1, {"EUR": "48000.00"})


def test_references_json_gives_candidates_and_asks(db):
    candidates = read_json(db, "references", "match", "-c", "region=EMEA", "-p", "advocates_store")
    assert {c["member"] for c in candidates} >= {"ana", "ben"}
    request = read_json(db, "references", "show", "opp-77", "-p", "advocates_store")
    assert request["criteria"] == {"industry": "fintech"}
    assert [(a["member"], a["status"]) for a in request["asks"]] == [("chloe", "asked")]


def test_json_error_is_one_line_on_stderr_and_exit_2(db):
    result = run(db, "member", "show", "nobody", "-p", "partner", "--json")
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    [line] = error_lines(result)
    assert line.startswith("error: member:")
