"""`python -m sayzhong support …`: batch classification in order, bad lines answered in place."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import SQLModel

from sayzhong.cli import main
from sayzhong.db import get_engine
from sayzhong.models import load_all_models


def test_classify_batch_prints_one_routing_per_line_in_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    load_all_models()
    SQLModel.metadata.create_all(get_engine())
    batch = tmp_path / "tickets.jsonl"
    batch.write_text(
        "\n".join(
            [
                json.dumps({"subject": "charged twice", "body": "My card was charged two times this month."}),
                "this is not json",
                json.dumps({"subject": "删除账户", "body": "请删除我的账户和所有录音"}),
                json.dumps(["not", "an", "object"]),
                json.dumps({"subject": "mic", "body": "The microphone is blocked and Record does nothing."}),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    assert main(["support", "classify", "--batch", str(batch)]) == 1  # some lines were not tickets
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [line.get("queue") for line in lines] == ["billing", None, "privacy", None, "audio"]
    assert lines[0]["priority"] == "urgent" and 0 < lines[0]["confidence"] <= 1
    assert lines[1] == {"line": 2, "error": lines[1]["error"]} and "not a ticket" in lines[1]["error"]
    assert lines[3]["line"] == 4


def test_classify_reports_a_missing_file_plainly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["support", "classify", "--batch", str(tmp_path / "nope.jsonl")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_seed_articles_command_is_idempotent(capsys: pytest.CaptureFixture[str]) -> None:
    load_all_models()
    SQLModel.metadata.create_all(get_engine())
    assert main(["support", "seed-articles"]) == 0
    assert main(["support", "seed-articles"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1] == "help articles: 0 added or refreshed from the repository" and " 0 " not in out[0]
