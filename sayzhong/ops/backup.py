"""Backups and restores of everything a learner would miss: the database and their recordings.

A backup is a folder ``sayzhong-<UTC time>/`` holding

- ``database.sqlite3`` (SQLite's online backup API: consistent while the app writes) or
  ``database.pgdump`` (``pg_dump -Fc``, one consistent snapshot);
- ``files/attempts/…`` and ``files/calibration/…``: every stored take, copied;
- ``manifest.json``, written last: the SHA-256 and size of every file above, row counts per table
  and the schema revision. A folder without a manifest is an interrupted backup and is ignored.

``restore_backup`` verifies every checksum before it touches anything, then replaces the database and
the audio folders. ``encrypt_backup`` packs a backup into one AES-256-GCM file (key derived with
scrypt from ``BACKUP_ENCRYPTION_KEY``) for the off-site copy; ``decrypt_backup`` unpacks it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit

from sqlalchemy import MetaData, create_engine, func, select, text
from sqlalchemy.engine import Engine

from sayzhong.errors import SayZhongError
from sayzhong.settings import Settings

AUDIO_FOLDERS = ("attempts", "calibration")
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
ENCRYPTED_MAGIC = b"SZBACKUP1"


class BackupError(SayZhongError):
    code = "backup_failed"
    http_status = 500
    default_message = "The backup or restore could not be completed."


@dataclass(frozen=True)
class Backup:
    path: Path
    manifest: dict[str, Any]


def backup_root(settings: Settings) -> Path:
    return Path(settings.backup_dir) if settings.backup_dir else settings.data_dir / "backups"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --- what an instance holds (used by backups, restores and the drill) -------------------------


def _engine(settings: Settings) -> Engine:
    return create_engine(settings.effective_database_url)


def table_digests(settings: Settings) -> dict[str, tuple[int, str]]:
    """(row count, SHA-256 of every row in key order) for each table: equal digests, equal data."""
    engine = _engine(settings)
    try:
        meta = MetaData()
        meta.reflect(engine)
        out: dict[str, tuple[int, str]] = {}
        with engine.connect() as conn:
            for name, table in sorted(meta.tables.items()):
                order = list(table.primary_key.columns) or list(table.columns)
                digest = hashlib.sha256()
                count = 0
                for row in conn.execute(select(table).order_by(*order)):
                    digest.update(json.dumps(_normalise(tuple(row)), default=str).encode() + b"\n")
                    count += 1
                out[name] = (count, digest.hexdigest())
        return out
    finally:
        engine.dispose()


def _normalise(values: tuple[Any, ...]) -> list[Any]:
    # SQLite returns naive datetimes and JSON as text; make both databases hash alike across a restore.
    out: list[Any] = []
    for value in values:
        if isinstance(value, datetime):
            value = (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()
        out.append(value)
    return out


def file_digests(data_dir: Path) -> dict[str, str]:
    """SHA-256 of every stored recording, by path relative to DATA_DIR."""
    out: dict[str, str] = {}
    for folder in AUDIO_FOLDERS:
        root = data_dir / folder
        if root.is_dir():
            for path in sorted(p for p in root.rglob("*") if p.is_file()):
                out[path.relative_to(data_dir).as_posix()] = sha256_file(path)
    return out


def _row_counts(settings: Settings) -> dict[str, int]:
    engine = _engine(settings)
    try:
        meta = MetaData()
        meta.reflect(engine)
        with engine.connect() as conn:
            return {
                name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
                for name, table in sorted(meta.tables.items())
            }
    finally:
        engine.dispose()


def _schema_revision(settings: Settings) -> str | None:
    engine = _engine(settings)
    try:
        with engine.connect() as conn:
            return str(conn.execute(text("SELECT version_num FROM alembic_version")).scalar())
    except Exception:
        return None
    finally:
        engine.dispose()


# --- PostgreSQL command-line tools ------------------------------------------------------------


def _pg_target(settings: Settings) -> tuple[str, str | None]:
    """A libpq URL for pg_dump/pg_restore and the schema named by ``options=-csearch_path=…``, if any."""
    url = settings.effective_database_url.replace("postgresql+psycopg://", "postgresql://", 1)
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    schema = None
    for option in query.pop("options", []):
        option = unquote(option)
        if option.startswith("-csearch_path="):
            schema = option.split("=", 1)[1].split(",")[0]
    rest = "&".join(f"{k}={v}" for k, values in query.items() for v in values)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, rest, "")), schema


def _run(args: list[str]) -> None:
    result = subprocess.run(args, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} failed: {result.stderr.strip()[-500:]}")


# --- backup -----------------------------------------------------------------------------------


def create_backup(settings: Settings, *, dest: Path | None = None, now: datetime | None = None) -> Backup:
    """Back up the database and the recordings into a new folder under ``dest`` (BACKUP_DIR)."""
    started = time.time()
    now = now or datetime.now(UTC)
    root = dest or backup_root(settings)
    root.mkdir(parents=True, exist_ok=True)
    name = "sayzhong-" + now.strftime("%Y%m%dT%H%M%SZ")
    work = Path(tempfile.mkdtemp(prefix=".partial-", dir=root))
    try:
        url = settings.effective_database_url
        if url.startswith("sqlite"):
            db_kind, db_file = "sqlite", SQLITE_FILE
            source = sqlite3.connect(url.removeprefix("sqlite:///"))
            target = sqlite3.connect(work / SQLITE_FILE)
            try:
                with target:
                    source.backup(target)
            finally:
                target.close()
                source.close()
        else:
            db_kind, db_file = "postgresql", PG_FILE
            pg_url, schema = _pg_target(settings)
            _run(
                [
                    "pg_dump",
                    "-Fc",
                    "--no-owner",
                    "--no-privileges",
                    *(["-n", schema] if schema else []),
                    "-f",
                    str(work / PG_FILE),
                    pg_url,
                ]
            )
        for folder in AUDIO_FOLDERS:
            src = settings.data_dir / folder
            if src.is_dir():
                shutil.copytree(src, work / "files" / folder)
        files: dict[str, dict[str, Any]] = {
            p.relative_to(work).as_posix(): {"sha256": sha256_file(p), "bytes": p.stat().st_size}
            for p in sorted(work.rglob("*"))
            if p.is_file()
        }
        manifest: dict[str, Any] = {
            "format": 1,
            "name": name,
            "database": db_kind,
            "database_file": db_file,
            "schema_revision": _schema_revision(settings),
            "row_counts": _row_counts(settings),
            "files": files,
            "total_bytes": sum(int(f["bytes"]) for f in files.values()),
            "started_unix": started,
            "finished_unix": time.time(),
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=1, sort_keys=True))
        final = root / name
        suffix = 1
        while final.exists():
            suffix += 1
            final = root / f"{name}-{suffix}"
        work.rename(final)  # atomic: a backup either has its manifest or does not exist
        return Backup(final, manifest)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise


def list_backups(root: Path) -> list[Backup]:
    """Complete backups under ``root``, newest first."""
    found = []
    for manifest in root.glob(f"*/{MANIFEST}"):
        try:
            found.append(Backup(manifest.parent, json.loads(manifest.read_text())))
        except (OSError, ValueError):
            continue
    return sorted(found, key=lambda b: float(b.manifest.get("finished_unix", 0)), reverse=True)


def prune_backups(root: Path, *, keep: int) -> list[Path]:
    """Delete all but the ``keep`` newest complete backups; returns what was deleted."""
    doomed = [b.path for b in list_backups(root)[keep:]]
    for path in doomed:
        shutil.rmtree(path)
    return doomed


def verify_backup(path: Path) -> list[str]:
    """Every problem found (missing, extra or altered files); empty means the backup is intact."""
    try:
        manifest = json.loads((path / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        return [f"manifest unreadable: {exc}"]
    problems = []
    listed: dict[str, dict[str, Any]] = manifest.get("files", {})
    present = {p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file()} - {MANIFEST}
    for rel in sorted(set(listed) - present):
        problems.append(f"missing: {rel}")
    for rel in sorted(present - set(listed)):
        problems.append(f"not in manifest: {rel}")
    for rel in sorted(set(listed) & present):
        if sha256_file(path / rel) != listed[rel]["sha256"]:
            problems.append(f"checksum mismatch: {rel}")
    return problems


# --- restore ----------------------------------------------------------------------------------


def restore_backup(settings: Settings, path: Path) -> dict[str, Any]:
    """Replace the database and recordings with the backup's. Refuses a backup that fails to verify."""
    from sayzhong.db import dispose_engines

    problems = verify_backup(path)
    if problems:
        raise BackupError("The backup failed verification: " + "; ".join(problems[:5]))
    manifest: dict[str, Any] = json.loads((path / MANIFEST).read_text())
    url = settings.effective_database_url
    dispose_engines()
    if manifest["database"] == "sqlite":
        if not url.startswith("sqlite"):
            raise BackupError("This is a SQLite backup; DATABASE_URL points at PostgreSQL.")
        db_path = Path(url.removeprefix("sqlite:///"))
        db_path.parent.mkdir(parents=True, exist_ok=True)
        for leftover in (db_path.with_name(db_path.name + "-wal"), db_path.with_name(db_path.name + "-shm")):
            leftover.unlink(missing_ok=True)
        source = sqlite3.connect(path / SQLITE_FILE)
        target = sqlite3.connect(db_path)
        try:
            with target:
                source.backup(target)  # page-for-page copy, replacing what was there
        finally:
            target.close()
            source.close()
    else:
        if url.startswith("sqlite"):
            raise BackupError("This is a PostgreSQL backup; DATABASE_URL points at SQLite.")
        pg_url, _schema = _pg_target(settings)
        _run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "-d",
                pg_url,
                str(path / PG_FILE),
            ]
        )
    for folder in AUDIO_FOLDERS:
        target_dir = settings.data_dir / folder
        source_dir = path / "files" / folder
        staging = settings.data_dir / f".{folder}.restoring"
        shutil.rmtree(staging, ignore_errors=True)
        if source_dir.is_dir():
            shutil.copytree(source_dir, staging)
        else:
            staging.mkdir(parents=True)
        if target_dir.exists():
            shutil.rmtree(target_dir)
        staging.rename(target_dir)
    return manifest


# --- encrypted off-site copy ------------------------------------------------------------------


def _key(passphrase: str, salt: bytes) -> bytes:
    return hashlib.scrypt(
        passphrase.encode(), salt=salt, n=2**15, r=8, p=1, maxmem=64 * 1024 * 1024, dklen=32
    )


def encrypt_backup(path: Path, out_file: Path, *, passphrase: str) -> Path:
    """One encrypted, authenticated file holding the whole backup folder (for the off-site copy)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if len(passphrase) < 16:
        raise BackupError("BACKUP_ENCRYPTION_KEY must be at least 16 characters.")
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(path, arcname=path.name)
    salt, nonce = os.urandom(16), os.urandom(12)
    sealed = AESGCM(_key(passphrase, salt)).encrypt(nonce, buffer.getvalue(), ENCRYPTED_MAGIC)
    tmp = out_file.with_name(out_file.name + ".part")
    tmp.write_bytes(ENCRYPTED_MAGIC + salt + nonce + sealed)
    tmp.rename(out_file)
    return out_file


def decrypt_backup(encrypted: Path, dest: Path, *, passphrase: str) -> Path:
    """Unpack an encrypted copy into ``dest``; returns the backup folder. Tampering is refused."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    blob = encrypted.read_bytes()
    if not blob.startswith(ENCRYPTED_MAGIC):
        raise BackupError("That file is not an encrypted SayZhong backup.")
    head = len(ENCRYPTED_MAGIC)
    salt, nonce, sealed = blob[head : head + 16], blob[head + 16 : head + 28], blob[head + 28 :]
    try:
        plain = AESGCM(_key(passphrase, salt)).decrypt(nonce, sealed, ENCRYPTED_MAGIC)
    except InvalidTag as exc:
        raise BackupError("Wrong key, or the encrypted backup was altered.") from exc
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(plain), mode="r:gz") as tar:
        names = _safe_members(tar.getnames())
        tar.extractall(dest, filter="data")
    return dest / names[0].split("/", 1)[0]


def _safe_members(names: Iterable[str]) -> list[str]:
    listed = list(names)
    if not listed or any(n.startswith(("/", "..")) or "/../" in n for n in listed):
        raise BackupError("The encrypted backup holds unexpected paths.")
    return listed


def copy_offsite(backup: Backup, settings: Settings) -> Path:
    """Encrypt ``backup`` into BACKUP_OFFSITE_DIR (a mounted off-site share)."""
    if not settings.backup_offsite_dir:
        raise BackupError("Set BACKUP_OFFSITE_DIR to a mounted off-site folder first.")
    if not settings.backup_encryption_key:
        raise BackupError("Set BACKUP_ENCRYPTION_KEY: off-site copies are always encrypted.")
    target = Path(settings.backup_offsite_dir)
    target.mkdir(parents=True, exist_ok=True)
    return encrypt_backup(
        backup.path, target / f"{backup.path.name}.szbackup", passphrase=settings.backup_encryption_key
    )
