"""Offline mode and sync: takes survive an unreachable or crashing server and are stored exactly once."""

from __future__ import annotations

import json

from clientharness import Backend, Client, DroppingProxy, Speech


def _practice_wav(client: Client, server_url: str, speech: Speech) -> dict:
    result = client.run("--server", server_url, "practice", "greetings", "--wav", str(speech.wav), "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def _queued_key(client: Client) -> str:
    [meta] = client.queued()
    return str(json.loads(meta.read_text())["idempotency_key"])


def _sync(client: Client, server_url: str) -> dict:
    result = client.run("--server", server_url, "sync", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_unreachable_server_scores_offline_queues_and_syncs_later(
    backend: Backend, client: Client, speech: Speech
) -> None:
    client.save_token(backend.token)

    reply = _practice_wav(client, backend.url, speech)  # nothing listens on the port yet

    assert reply["offline"] is True and reply["queued"] is True
    assert [s["grapheme"] for s in reply["attempt"]["syllables"]] == ["你", "好"]
    key = _queued_key(client)
    audio = next(client.queue_dir.glob("*.audio")).read_bytes()
    assert audio == speech.wav.read_bytes()

    status = client.run("--server", backend.url, "status")
    assert "1 take(s) waiting to sync" in status.stdout

    backend.server().start()
    first = _sync(client, backend.url)
    assert [s["replayed"] for s in first["synced"]] == [False] and first["remaining"] == 0
    assert backend.attempts() == [(first["synced"][0]["attempt_id"], key)]
    assert client.queued() == []

    second = _sync(client, backend.url)
    assert second["synced"] == [] and len(backend.attempts()) == 1


def test_server_killed_after_storing_but_before_answering_gives_exactly_one_attempt(
    backend: Backend, client: Client, speech: Speech
) -> None:
    server = backend.server().start()
    client.save_token(backend.token)
    proxy = DroppingProxy(server.port, mode="after_response_starts", on_drop=server.kill)
    try:
        reply = _practice_wav(client, proxy.url, speech)
    finally:
        proxy.close()

    assert proxy.dropped.is_set()
    assert reply["offline"] is True and reply["queued"] is True
    key = _queued_key(client)
    assert [k for _, k in backend.attempts()] == [key]  # the server had stored it before it died

    backend.server().start()  # restarted on the same port
    synced = _sync(client, backend.url)

    assert [s["replayed"] for s in synced["synced"]] == [True]
    assert [k for _, k in backend.attempts()] == [key]
    assert client.queued() == []


def test_server_killed_mid_upload_then_restarted_gives_exactly_one_attempt(
    backend: Backend, client: Client, speech: Speech
) -> None:
    server = backend.server().start()
    client.save_token(backend.token)
    proxy = DroppingProxy(server.port, mode="mid_upload", forward_bytes=2_000, on_drop=server.kill)
    try:
        reply = _practice_wav(client, proxy.url, speech)
    finally:
        proxy.close()

    assert proxy.dropped.is_set()
    assert reply["offline"] is True and reply["queued"] is True
    assert backend.attempts() == []
    key = _queued_key(client)

    backend.server().start()
    synced = _sync(client, backend.url)

    assert [s["replayed"] for s in synced["synced"]] == [False]
    assert [k for _, k in backend.attempts()] == [key]


def test_sync_stops_when_the_server_goes_away_and_keeps_the_rest(
    backend: Backend, client: Client, speech: Speech
) -> None:
    client.save_token(backend.token)
    for _ in range(2):
        _practice_wav(client, backend.url, speech)
    assert len(client.queued()) == 2

    result = client.run("--server", backend.url, "sync", "--json")

    assert result.returncode == 1
    body = json.loads(result.stdout)
    assert body["remaining"] == 2 and body["error"]["code"] == "server_unreachable"
    metas = [json.loads(p.read_text()) for p in client.queued()]
    assert metas[0]["tries"] == 1 and "Cannot reach" in metas[0]["last_error"]
