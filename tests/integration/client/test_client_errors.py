"""What the learner sees when things go wrong: 5xx, expired or bad tokens, huge files."""

from __future__ import annotations

import json
import stat
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from clientharness import Backend, Client, Speech
from sqlmodel import select

from sayzhong.api import tokens
from sayzhong.api.models import ApiToken
from sayzhong.db import session_scope


class _Failing(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        body = json.dumps({"error": {"code": "unavailable", "message": "Maintenance in progress."}}).encode()
        self.send_response(503)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def failing_server() -> Iterator[str]:
    """A loopback server answering 503 to everything (a proxy in front of a broken backend)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Failing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _expire(token: str) -> None:
    with session_scope() as session:
        row = session.exec(select(ApiToken).where(ApiToken.token_hash == tokens.hash_token(token))).one()
        row.expires_at = row.created_at - timedelta(seconds=1)
        session.add(row)


def test_server_5xx_falls_back_to_offline_scoring_and_queues(
    failing_server: str, client: Client, speech: Speech
) -> None:
    client.save_token("szp_" + "x" * 40)

    result = client.run("--server", failing_server, "practice", "greetings", "--wav", str(speech.wav))

    assert result.returncode == 0, result.stderr
    assert "The server had a problem (503: Maintenance in progress.)" in result.stderr
    assert "Working offline" in result.stderr
    assert "[offline: scored on this computer; queued to sync]" in result.stdout
    assert "hao3" in result.stdout
    assert len(client.queued()) == 1
    sync = client.run("--server", failing_server, "sync")
    assert sync.returncode == 1 and len(client.queued()) == 1


def test_expired_token_is_explained_before_recording_and_a_new_login_works(
    backend: Backend, client: Client, speech: Speech
) -> None:
    backend.server().start()
    client.save_token(backend.token)
    _expire(backend.token)

    lessons = client.run("--server", backend.url, "lessons")
    assert lessons.returncode == 3
    assert "expired" in lessons.stderr and "sayzhong-client login" in lessons.stderr

    practice = client.run(
        "--server", backend.url, "practice", "greetings", "--wav", str(speech.wav), "--json"
    )
    assert practice.returncode == 3
    assert json.loads(practice.stdout)["error"]["code"] == "token_expired"
    assert client.queued() == [] and backend.attempts() == []

    with session_scope() as session:
        _info, fresh = tokens.create_token(session=session, user_id=backend.user_id, name="new laptop token")
    login = client.run("--server", backend.url, "login", stdin=fresh + "\n")
    assert login.returncode == 0, login.stderr
    again = client.run("--server", backend.url, "practice", "greetings", "--wav", str(speech.wav), "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["offline"] is False
    assert len(backend.attempts()) == 1


def test_a_revoked_token_is_explained(backend: Backend, client: Client) -> None:
    backend.server().start()
    client.save_token(backend.token)
    with session_scope() as session:
        for info in tokens.list_tokens(session=session, user_id=backend.user_id):
            tokens.revoke_token(session=session, user_id=backend.user_id, token_id=info.id)
    result = client.run("--server", backend.url, "review")
    assert result.returncode == 3 and "revoked" in result.stderr


def test_a_50_mb_file_is_refused_before_uploading(backend: Backend, client: Client, tmp_path: Path) -> None:
    backend.server().start()
    client.save_token(backend.token)
    big = tmp_path / "huge.wav"
    with big.open("wb") as handle:
        handle.write(b"RIFF\x00\x00\x00\x00WAVEfmt ")
        handle.truncate(50 * 1024 * 1024)

    result = client.run("--server", backend.url, "practice", "greetings", "--wav", str(big))

    assert result.returncode == 1
    assert "too large (50.0 MB)" in result.stderr and "at most 5 MB" in result.stderr
    assert client.queued() == [] and backend.attempts() == []


def test_login_checks_the_token_and_stores_it_for_the_owner_only(backend: Backend, client: Client) -> None:
    backend.server().start()

    bad = client.run("--server", backend.url, "login", "--token", "szp_" + "n" * 40)
    assert bad.returncode == 3 and "not valid" in bad.stderr
    assert not client.token_file.exists()

    good = client.run("--server", backend.url, "login", stdin=backend.token + "\n")
    assert good.returncode == 0, good.stderr
    assert "Logged in" in good.stdout and "Mei" in good.stdout
    assert stat.S_IMODE(client.token_file.stat().st_mode) == 0o600
    assert client.token_file.read_text().strip() == backend.token

    status = client.run("status")  # the server given at login was saved
    assert backend.url in status.stdout and "mei@example.org" in status.stdout
    review = client.run("review")
    assert review.returncode == 0 and "Nothing to review right now." in review.stdout

    logout = client.run("logout")
    assert logout.returncode == 0 and not client.token_file.exists()
    after = client.run("lessons")
    assert after.returncode == 3 and "not logged in" in after.stderr


def test_lessons_work_offline_from_the_built_in_curriculum(client: Client, backend: Backend) -> None:
    client.save_token(backend.token)
    result = client.run("--server", backend.url, "lessons")
    assert result.returncode == 0
    assert "built-in copy" in result.stdout and "greetings" in result.stdout
    assert "Cannot reach the server" in result.stderr


def test_on_free_the_client_says_it_is_a_plus_feature_and_where_to_upgrade(
    backend: Backend, client: Client, speech: Speech
) -> None:
    from sayzhong.billing.models import BillingGrant

    with session_scope() as session:  # the backend's learner back on Free (their Plus grant ended)
        for grant in session.exec(select(BillingGrant).where(BillingGrant.user_id == backend.user_id)).all():
            session.delete(grant)
    backend.server().start()
    login = client.run("--server", backend.url, "login", stdin=backend.token + "\n")
    assert login.returncode == 0, login.stderr  # the token is still checked and stored on Free

    lessons = client.run("--server", backend.url, "lessons")
    assert lessons.returncode == 1
    assert "The terminal client (and the API it uses) is part of SayZhong Plus." in lessons.stderr
    assert "/pricing" in lessons.stderr and "://" in lessons.stderr  # a full upgrade address

    practice = client.run(
        "--server", backend.url, "practice", "greetings", "--wav", str(speech.wav), "--json"
    )
    assert practice.returncode == 1
    assert json.loads(practice.stdout)["error"]["code"] == "plan_required"
    assert client.queued() == [] and backend.attempts() == []  # refused before anything was recorded
