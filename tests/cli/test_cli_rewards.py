"""`accolade rewards list|redeem|redemptions|approve|fulfil|reject|cancel|codes` on the example."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.cli.builders import error_lines, ok, run, table_rows, write_jsonl

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "rewards.yaml"


def store_with_members(tmp_path: Path) -> None:
    ok(tmp_path, "program", "publish", EXAMPLE)
    at = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    sent = [
        {"id": f"s{i}", "type": "story.submitted", "member": "ana", "occurred_at": at}
        for i in range(10)  # 25,000: gold
    ] + [{"id": "r1", "type": "review.posted", "member": "ben", "occurred_at": at}]
    ok(tmp_path, "ingest", write_jsonl(tmp_path / "events.jsonl", sent))


def test_a_member_redeems_and_an_admin_approves_and_fulfils(tmp_path):
    store_with_members(tmp_path)
    listed = ok(tmp_path, "rewards", "list", "--member", "ben")
    rows = {r[0]: r for r in table_rows(listed)}
    assert "speaker_slot" not in rows  # gold and platinum only
    assert rows["tshirt"][-1] == "needs 1,500 points; 1,000 can be spent now"
    assert rows["trees"][-1] == "can redeem"

    asked = ok(tmp_path, "rewards", "redeem", "ana", "speaker_slot", "--id", "talk-1")
    assert "talk-1: ana · Speaking slot at the user conference · 15,000 points · requested" in (
        asked.stdout
    )
    assert "balance 10,000" in asked.stdout
    again = ok(tmp_path, "rewards", "redeem", "ana", "speaker_slot", "--id", "talk-1")
    assert "already redeemed: talk-1" in again.stdout
    queue = ok(tmp_path, "rewards", "redemptions", "--status", "requested")
    assert [r[:5] for r in table_rows(queue)] == [
        ["talk-1", "ana", "speaker_slot", "15,000", "requested"]
    ]
    assert "approved" in ok(tmp_path, "rewards", "approve", "talk-1", "--by", "lea").stdout
    done = ok(tmp_path, "rewards", "fulfil", "talk-1", "--note", "Berlin, day 2", "--by", "lea")
    assert "fulfilled" in done.stdout
    history = ok(tmp_path, "rewards", "redemptions", "--member", "ana")
    assert table_rows(history)[0][4] == "fulfilled"
    assert table_rows(history)[0][6:] == ["lea", "Berlin, day 2"]


def test_codes_from_a_file_and_refusals_as_one_line(tmp_path):
    store_with_members(tmp_path)
    codes = tmp_path / "codes.txt"
    codes.write_text("GC-1\nGC-2\n\nGC-1\n")
    assert "2 new codes for gift_card; 2 free in its pool" in (
        ok(tmp_path, "rewards", "codes", "gift_card", codes).stdout
    )
    got = ok(tmp_path, "rewards", "redeem", "ana", "gift_card")
    assert "code: GC-1" in got.stdout
    poor = run(tmp_path, "rewards", "redeem", "ben", "gift_card")
    assert poor.exit_code == 2
    assert error_lines(poor) == [
        "error: reward: 'gift_card' costs 2,500 points; ben's balance is 1,000"
    ]
    gold_only = run(tmp_path, "rewards", "redeem", "ben", "speaker_slot")
    assert error_lines(gold_only) == [
        "error: reward: 'speaker_slot' is only for the Gold or Platinum tier"
    ]
    missing = run(tmp_path, "rewards", "codes", "gift_card", tmp_path / "nope.txt")
    assert missing.exit_code == 2 and "no file" in error_lines(missing)[0]


def test_points_expire_takes_what_was_not_spent_in_time(tmp_path):
    from tests.integration.test_expiry import PROGRAM as EXPIRING

    source = tmp_path / "loyal.yaml"
    source.write_text(EXPIRING)
    ok(tmp_path, "program", "publish", source)
    long_ago = (datetime.now(UTC) - timedelta(days=400)).isoformat()
    sent = [
        {
            "id": "old",
            "type": "deal.won",
            "member": "ana",
            "occurred_at": long_ago,
            "properties": {"points": 800},
        }
    ]
    ok(tmp_path, "ingest", write_jsonl(tmp_path / "events.jsonl", sent))
    done = ok(tmp_path, "points", "expire")
    assert "800 points expired for 1 member; 0 members warned" in done.stdout
    again = ok(tmp_path, "points", "expire")
    assert "0 points expired for 0 members;" in again.stdout
