"""`accolade referrals submit|move|list|pipeline`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.cli.builders import error_lines, ok, run, table_rows, write_jsonl
from tests.integration.test_referrals import PROGRAM


def program_with_members(tmp_path: Path) -> None:
    source = tmp_path / "refer.yaml"
    source.write_text(PROGRAM)
    ok(tmp_path, "program", "publish", source)
    at = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    sent = [
        {"id": f"l-{m}", "type": "login", "member": m, "occurred_at": at, "company": "Globex"}
        for m in ("ana", "ben")
    ]
    ok(tmp_path, "ingest", write_jsonl(tmp_path / "events.jsonl", sent))


def test_submit_move_and_the_pipeline(tmp_path):
    program_with_members(tmp_path)
    done = ok(tmp_path, "referrals", "submit", "ana", "Acme", "--domain", "acme.com", "--id", "L-9")
    assert "L-9: ana referred Acme · submitted" in done.stdout
    assert "sent referral:L-9:submitted" in done.stdout
    won = ok(tmp_path, "referrals", "move", "L-9", "win", "--amount", "12500", "--currency", "EUR")
    assert "deal 12,500.00 EUR" in won.stdout
    dup = ok(tmp_path, "referrals", "submit", "ben", "Acme Inc", "--domain", "www.acme.com")
    assert "duplicate of L-9 (the first valid referral counts)" in dup.stdout
    listed = table_rows(ok(tmp_path, "referrals", "list", "--member", "ana"))
    assert [r[:5] for r in listed] == [["L-9", "ana", "Acme", "won", "12,500.00 EUR"]]
    pipeline = table_rows(ok(tmp_path, "referrals", "pipeline", "--by", "company"))
    assert pipeline == [["Globex", "1", "1", "0", "-", "1", "12,500.00 EUR"]]
    lost = run(tmp_path, "referrals", "move", "L-9", "lose")
    assert error_lines(lost) == ["error: reason: say why"]
    out = ok(tmp_path, "referrals", "move", "L-9", "lose", "--reason", "contract cancelled")
    assert "reversed referral:L-9:won" in out.stdout


def test_a_deal_shows_its_currency_s_places(tmp_path):
    program_with_members(tmp_path)
    ok(tmp_path, "referrals", "submit", "ana", "Acme", "--domain", "acme.com", "--id", "L-1")
    ok(tmp_path, "referrals", "submit", "ben", "Initech", "--domain", "initech.com", "--id", "L-2")

    yen = ok(
        tmp_path, "referrals", "move", "L-1", "win", "--amount", "1250000", "--currency", "JPY"
    )
    dinar = ok(
        tmp_path, "referrals", "move", "L-2", "win", "--amount", "1.234", "--currency", "KWD"
    )

    assert "deal 1,250,000 JPY" in yen.stdout
    assert "deal 1.234 KWD" in dinar.stdout
    listed = {r[0]: r[4] for r in table_rows(ok(tmp_path, "referrals", "list"))}
    assert listed == {"L-1": "1,250,000 JPY", "L-2": "1.234 KWD"}
