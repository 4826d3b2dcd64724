"""`accolade recommend`: train prints the sample sizes and the offline precision@3; show prints
a member's ranked list with its reasons; an unknown member is an error naming it, exit 2."""

from __future__ import annotations

import json

from tests.cli.builders import error_lines, ok, run, write_jsonl
from tests.integration.test_recommend import PLANTED, SOURCE, planted_history


def advocacy(tmp_path) -> None:
    source = tmp_path / "advocacy.yaml"
    source.write_text(SOURCE, encoding="utf-8")
    ok(tmp_path, "program", "publish", source)
    history = write_jsonl(tmp_path / "events.jsonl", planted_history(60))
    ok(tmp_path, "ingest", history, "-p", "advocacy")


def test_train_then_show_ranks_the_planted_mechanic_first(tmp_path):
    advocacy(tmp_path)
    trained = ok(tmp_path, "recommend", "train", "-p", "advocacy")
    assert "model 1 for advocacy v1: 60 members" in trained.stdout, trained.stdout
    assert "precision@3 on later times" in trained.stdout
    shown = ok(tmp_path, "recommend", "show", "b1", "-p", "advocacy", "--json")
    ranked = json.loads(shown.stdout)["recommendations"]
    assert ranked[0]["action"] == PLANTED["B"] and ranked[0]["source"] == "model"
    table = ok(tmp_path, "recommend", "show", "a0", "-p", "advocacy", "--limit", "2")
    assert "why" in table.stdout and "members like you" in table.stdout, table.stdout


def test_show_for_an_unknown_member_is_an_error_naming_it(tmp_path):
    advocacy(tmp_path)
    result = run(tmp_path, "recommend", "show", "nobody", "-p", "advocacy")
    assert result.exit_code == 2, result.output
    assert "member" in error_lines(result)[0]
