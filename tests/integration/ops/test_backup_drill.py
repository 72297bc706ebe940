"""The backup and restore drill: back up a populated instance, destroy it, restore it, compare.

Runs on SQLite and (in the PostgreSQL pass) on a real PostgreSQL server with pg_dump/pg_restore.
Row counts and a digest of every row of every table, and a digest of every stored recording, must
be identical after the restore. The drill prints the measured backup and restore times (RTO inputs).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest
from sqlmodel import SQLModel

from sayzhong.db import dispose_engines, get_engine, session_scope
from sayzhong.models import load_all_models
from sayzhong.ops import backup
from sayzhong.ops.cli import register_cli  # noqa: F401 - the commands the runbooks name exist
from sayzhong.practice import service as practice
from sayzhong.settings import Settings
from tests.factories import signed_in_learner
from tests.support.pron_synth import synth_wav_bytes


def _populate(settings: Settings) -> None:
    load_all_models()
    SQLModel.metadata.create_all(get_engine())
    for email, tones in (("mei@example.org", [2, 3]), ("li@example.org", [3, 3])):
        token = signed_in_learner(email)
        with session_scope() as session:
            from sayzhong.accounts import sign_in

            info = sign_in.resolve_session(session=session, token=token)
            assert info is not None
            practice.score_attempt(
                session=session,
                user_id=info.user.id,
                item_id="greetings.hello",
                audio=synth_wav_bytes(tones),
                content_type="audio/wav",
            )
    calibration = settings.data_dir / "calibration" / "1"
    calibration.mkdir(parents=True)
    (calibration / "take-1.wav").write_bytes(synth_wav_bytes([1]))


def _destroy(settings: Settings) -> None:
    dispose_engines()
    url = settings.effective_database_url
    if url.startswith("sqlite"):
        Path(url.removeprefix("sqlite:///")).unlink()
    else:
        pg_url, schema = backup._pg_target(settings)
        assert schema is not None
        with psycopg.connect(pg_url, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    for folder in backup.AUDIO_FOLDERS:
        shutil.rmtree(settings.data_dir / folder)


def test_drill_backup_destroy_restore_gives_identical_data(settings: Settings, tmp_path: Path) -> None:
    _populate(settings)
    tables_before = backup.table_digests(settings)
    files_before = backup.file_digests(settings.data_dir)
    assert tables_before["practice_attempt"][0] == 2 and tables_before["user_account"][0] == 2
    assert len(files_before) == 3

    made = backup.create_backup(settings, dest=tmp_path / "backups")
    assert backup.verify_backup(made.path) == []
    assert made.manifest["row_counts"]["practice_attempt"] == 2

    _destroy(settings)
    assert backup.file_digests(settings.data_dir) == {}

    backup.restore_backup(settings, made.path)

    assert backup.table_digests(settings) == tables_before
    assert backup.file_digests(settings.data_dir) == files_before
    # The restored instance works: the app reads the restored attempts back.
    with session_scope() as session:
        assert len(practice.list_attempts(session=session, user_id=1)) == 1


def test_a_tampered_backup_is_refused_before_anything_is_replaced(settings: Settings, tmp_path: Path) -> None:
    _populate(settings)
    made = backup.create_backup(settings, dest=tmp_path / "backups")
    take = next((made.path / "files" / "attempts").rglob("*.*"))
    take.write_bytes(take.read_bytes()[:-10] + b"0123456789")
    problems = backup.verify_backup(made.path)
    assert problems == [f"checksum mismatch: {take.relative_to(made.path).as_posix()}"]
    before = backup.table_digests(settings)
    with pytest.raises(backup.BackupError, match="failed verification"):
        backup.restore_backup(settings, made.path)
    assert backup.table_digests(settings) == before


def test_the_encrypted_offsite_copy_restores_and_refuses_a_wrong_key(
    settings: Settings, tmp_path: Path
) -> None:
    _populate(settings)
    made = backup.create_backup(settings, dest=tmp_path / "backups")
    key = "a-long-offsite-passphrase-for-tests"
    sealed = backup.encrypt_backup(made.path, tmp_path / "copy.szbackup", passphrase=key)
    assert b"SQLite format" not in sealed.read_bytes() and b"RIFF" not in sealed.read_bytes()
    with pytest.raises(backup.BackupError, match="Wrong key"):
        backup.decrypt_backup(sealed, tmp_path / "wrong", passphrase="not-the-right-passphrase")
    opened = backup.decrypt_backup(sealed, tmp_path / "opened", passphrase=key)
    assert backup.verify_backup(opened) == []
    assert opened.name == made.path.name


def test_interrupted_backups_are_ignored_and_old_ones_pruned(settings: Settings, tmp_path: Path) -> None:
    _populate(settings)
    root = tmp_path / "backups"
    first = backup.create_backup(settings, dest=root)
    second = backup.create_backup(settings, dest=root)
    (root / "sayzhong-20000101T000000Z").mkdir()  # no manifest: an interrupted run
    assert [b.path for b in backup.list_backups(root)] == [second.path, first.path]
    assert backup.prune_backups(root, keep=1) == [first.path]
    assert [b.path for b in backup.list_backups(root)] == [second.path]
