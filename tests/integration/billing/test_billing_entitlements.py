"""The one entitlement check, through every door: the browser upload route, the JSON API, the
terminal client's API client — and the rules themselves (only scored takes count; the day ends at
the learner's local midnight). Payments are not configured here: the offline default."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlmodel import SQLModel, select
from starlette.testclient import TestClient

from sayzhong.accounts import users as accounts
from sayzhong.billing import service
from sayzhong.billing.entitlements import (
    EntitlementError,
    check_take,
    entitlement_for,
    require_unit,
    terminal_client_message,
)
from sayzhong.billing.models import BillingDailyUsage, BillingHeldTake
from sayzhong.billing.offline import PaymentsNotConfigured
from sayzhong.billing.ports import PaymentsNotConfiguredError
from sayzhong.client.api import ApiClient, PlanRequiredError
from sayzhong.db import get_engine, session_scope
from sayzhong.errors import PermissionDeniedError, SayZhongError
from sayzhong.http.app import create_http_app, security_headers
from sayzhong.models import load_all_models
from sayzhong.practice.models import Attempt
from sayzhong.pronunciation.audio import AudioUnsupportedError
from sayzhong.settings import Settings
from tests.factories import learner_with_api_token, signed_in_learner
from tests.support.localstripe_server import free_port
from tests.support.pron_synth import synth_wav_bytes

FREE_ITEM = "greetings.hello"
LOCKED_UNIT, LOCKED_ITEM = "directions", "directions.excuse-me"


@pytest.fixture
def app_client(settings: Settings) -> Iterator[TestClient]:
    load_all_models()
    SQLModel.metadata.create_all(get_engine())
    with TestClient(
        security_headers(create_http_app()), base_url=settings.app_url, raise_server_exceptions=False
    ) as c:
        yield c


def _user_id(email: str) -> int:
    with session_scope() as session:
        user = accounts.find_user_by_email(session=session, email=email)
    assert user is not None
    return user.id


def _add_takes(user_id: int, at: datetime, count: int, mode: str = "practice") -> None:
    with session_scope() as session:
        for _ in range(count):
            session.add(
                Attempt(
                    user_id=user_id,
                    item_id=FREE_ITEM,
                    mode=mode,
                    text="你好",
                    engine="offline",
                    created_at=at,
                )
            )


def _locked_message(user_id: int) -> str:
    """What the pages show for a locked unit (they call the same `require_unit`)."""
    with session_scope() as session, pytest.raises(EntitlementError) as caught:
        require_unit(session=session, user_id=user_id, unit_id=LOCKED_UNIT)
    return caught.value.user_message


def test_the_limit_counts_only_scored_takes_and_resets_at_local_midnight(app_client: TestClient) -> None:
    user_id, _ = learner_with_api_token("tz@example.org")
    with session_scope() as session:
        accounts.update_profile(
            session=session, user_id=user_id, timezone="Asia/Shanghai", daily_goal_minutes=None
        )
    now = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # 18:00 in Shanghai
    local_midnight = datetime(2026, 11, 29, 16, 0, tzinfo=UTC)  # 00:00 Shanghai today
    _add_takes(user_id, local_midnight - timedelta(minutes=1), 30)  # yesterday, local time
    _add_takes(user_id, local_midnight, 19)
    _add_takes(user_id, now, 3, mode="calibration")  # onboarding takes are never counted
    _add_takes(user_id, now, 2, mode="placement")
    with session_scope() as session:
        ent = check_take(session=session, user_id=user_id, item_id=FREE_ITEM, mode="practice", now=now)
        assert (ent.takes_today, ent.takes_left) == (19, 1)
    _add_takes(user_id, now, 1)
    with session_scope() as session, pytest.raises(EntitlementError) as caught:
        check_take(session=session, user_id=user_id, item_id=FREE_ITEM, mode="practice", now=now)
    error = caught.value
    assert (error.code, error.http_status, error.limit) == ("daily_limit", 402, 20)
    assert error.resets_at == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    assert "20 scored takes" in error.user_message and "00:00 your time (in 6 h 0 min)" in error.user_message
    assert "/pricing" in error.user_message
    with session_scope() as session:  # the next local day starts fresh
        after = check_take(
            session=session, user_id=user_id, item_id=FREE_ITEM, mode="practice", now=error.resets_at
        )
        assert after.takes_today == 0
        # calibration is never refused, even at the limit
        check_take(session=session, user_id=user_id, item_id=FREE_ITEM, mode="calibration", now=now)


def test_at_the_limit_the_upload_route_keeps_the_take_and_says_when_it_resets(
    app_client: TestClient, settings: Settings
) -> None:
    token = signed_in_learner("limit@example.org")
    user_id = _user_id("limit@example.org")
    _add_takes(user_id, datetime.now(UTC), settings.free_daily_scored_takes)
    take = synth_wav_bytes([2, 3])
    app_client.cookies.set(settings.session_cookie_name, token)
    headers = {
        "content-type": "audio/wav",
        "x-item-id": FREE_ITEM,
        "origin": settings.app_url,
        "idempotency-key": "take-0001-abcdef",
    }
    response = app_client.post("/practice/attempts", content=take, headers=headers)
    assert response.status_code == 402
    resent = app_client.post("/practice/attempts", content=take, headers=headers)  # the browser retries
    assert resent.status_code == 402
    error = response.json()["error"]
    assert error["code"] == "daily_limit"
    assert "Your take is saved" in error["message"] and "resets at 00:00" in error["message"]
    with session_scope() as session:
        (held,) = session.exec(select(BillingHeldTake)).all()
        assert (held.user_id, held.item_id, held.scored_attempt_id) == (user_id, FREE_ITEM, None)
        assert (settings.data_dir / "held" / held.audio_path).read_bytes() == take
        assert (
            len(session.exec(select(Attempt).where(Attempt.user_id == user_id)).all()) == 20
        )  # nothing scored


def test_a_locked_unit_is_refused_by_the_route_with_the_pages_message_and_free_has_no_api(
    app_client: TestClient, settings: Settings
) -> None:
    user_id, api_token = learner_with_api_token("free@example.org")
    message = _locked_message(user_id)
    assert message.startswith("“Directions” is part of SayZhong Plus.")
    auth = {"authorization": f"Bearer {api_token}"}
    # The API is the terminal client's door, a Plus feature: on Free every operation but /me says so.
    client_message = terminal_client_message()
    for path in (f"/api/v1/units/{LOCKED_UNIT}", "/api/v1/units/greetings", "/api/v1/progress"):
        refused = app_client.get(path, headers=auth)
        assert (refused.status_code, refused.json()["error"]) == (
            402,
            {"code": "plan_required", "message": client_message},
        )
    assert app_client.get("/api/v1/me", headers=auth).status_code == 200
    take = synth_wav_bytes([4, 3])
    api_upload = app_client.post(
        "/api/v1/attempts",
        content=take,
        headers={**auth, "content-type": "audio/wav", "x-item-id": FREE_ITEM},
    )
    assert (api_upload.status_code, api_upload.json()["error"]["message"]) == (402, client_message)
    app_client.cookies.set(settings.session_cookie_name, signed_in_learner("web@example.org"))
    page_upload = app_client.post(
        "/practice/attempts",
        content=take,
        headers={"content-type": "audio/wav", "x-item-id": LOCKED_ITEM, "origin": settings.app_url},
    )
    assert (page_upload.status_code, page_upload.json()["error"]["message"]) == (402, message)
    with session_scope() as session:
        assert session.exec(select(BillingHeldTake)).all() == []  # a refused take is never kept for later
        assert session.exec(select(Attempt)).all() == []


@pytest.fixture
def live_server(settings: Settings) -> Iterator[str]:
    load_all_models()
    SQLModel.metadata.create_all(get_engine())
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_http_app(), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_the_terminal_client_is_refused_on_free_and_plus_lifts_it(
    live_server: str, settings: Settings
) -> None:
    _user_id, api_token = learner_with_api_token("client@example.org")
    client = ApiClient(live_server, api_token)
    assert client.me()["email"] == "client@example.org"  # login still works on Free
    with pytest.raises(PlanRequiredError) as caught:
        client.unit("greetings")
    assert (caught.value.status, caught.value.code) == (402, "plan_required")
    assert caught.value.message == terminal_client_message()
    assert f"{settings.app_url.rstrip('/')}/pricing" in caught.value.message
    admin = _admin()
    with session_scope() as session:
        service.grant_plus(
            session=session, actor=admin, email="client@example.org", days=30, reason="beta tester"
        )
    assert client.unit(LOCKED_UNIT)["id"] == LOCKED_UNIT


def _admin() -> accounts.UserInfo:
    from sayzhong.accounts.models import User

    with session_scope() as session:
        info = accounts.sign_up(
            session=session, email="boss@example.org", password="learning tones daily", display_name="Boss"
        )
        row = session.get(User, info.id)
        assert row is not None
        row.role = "admin"
        row.two_factor_enabled = True  # staff act only with two-factor sign-in (issue 9)
        session.add(row)
    with session_scope() as session:
        return accounts.get_user(session=session, user_id=info.id)


def test_staff_grants_give_plus_for_a_period_are_audited_and_admin_only(app_client: TestClient) -> None:
    from sayzhong.audit import list_audit_events

    learner_id, _ = learner_with_api_token("gift@example.org")
    admin = _admin()
    with session_scope() as session:
        learner = accounts.get_user(session=session, user_id=learner_id)
        with pytest.raises(PermissionDeniedError):
            service.grant_plus(session=session, actor=learner, email="gift@example.org", days=30, reason="me")
        with pytest.raises(Exception, match="Say why"):
            service.grant_plus(session=session, actor=admin, email="gift@example.org", days=30, reason="  ")
        grant = service.grant_plus(
            session=session, actor=admin, email="gift@example.org", days=14, reason="school partner"
        )
    with session_scope() as session:
        ent = entitlement_for(session=session, user_id=learner_id)
        assert (ent.plan, ent.source, ent.unlimited) == ("plus", "grant", True)
        later = entitlement_for(session=session, user_id=learner_id, now=grant.ends_at + timedelta(seconds=1))
        assert later.plan == "free"
        events = list_audit_events(session=session, action="billing.grant_created").items
        assert [(e.actor_id, e.target, e.detail["reason"], e.detail["days"]) for e in events] == [
            (admin.id, f"user:{learner_id}", "school partner", 14)
        ]
        service.revoke_grant(session=session, actor=admin, grant_id=grant.id)
    with session_scope() as session:
        assert entitlement_for(session=session, user_id=learner_id).plan == "free"
        assert list_audit_events(session=session, action="billing.grant_revoked").total == 1


def test_held_takes_are_scored_once_the_learner_has_plus(app_client: TestClient, settings: Settings) -> None:
    token = signed_in_learner("held@example.org")
    user_id = _user_id("held@example.org")
    _add_takes(user_id, datetime.now(UTC), settings.free_daily_scored_takes)
    app_client.cookies.set(settings.session_cookie_name, token)
    response = app_client.post(
        "/practice/attempts",
        content=synth_wav_bytes([2, 3]),
        headers={"content-type": "audio/wav", "x-item-id": FREE_ITEM, "origin": settings.app_url},
    )
    assert response.status_code == 402
    with session_scope() as session:
        assert service.score_held_takes(session=session, user_id=user_id) == 0  # still limited
    with session_scope() as session:
        service.grant_plus(
            session=session, actor=_admin(), email="held@example.org", days=7, reason="support case"
        )
    with session_scope() as session:
        assert service.score_held_takes(session=session, user_id=user_id) == 1
    with session_scope() as session:
        (held,) = session.exec(select(BillingHeldTake)).all()
        assert held.scored_attempt_id is not None
        assert session.get(Attempt, held.scored_attempt_id) is not None
        assert not Path(settings.data_dir / "held" / held.audio_path).exists()


def test_without_stripe_keys_billing_is_a_usable_offline_mode(app_client: TestClient) -> None:
    user_id, _ = learner_with_api_token("offline@example.org")
    with session_scope() as session:
        view = service.portal(session=session, user_id=user_id, payments=PaymentsNotConfigured())
        assert (view.payments_configured, view.plan_name, view.entitlement.daily_limit) == (False, "Free", 20)
        with pytest.raises(PaymentsNotConfiguredError, match="not set up"):
            service.start_card_entry(session=session, user_id=user_id, payments=PaymentsNotConfigured())


def test_without_stripe_keys_the_webhook_route_refuses_and_stores_nothing(app_client: TestClient) -> None:
    from sayzhong import routes
    from sayzhong.billing.models import BillingWebhookEvent

    response = app_client.post(
        routes.STRIPE_WEBHOOK, content=b"{}", headers={"stripe-signature": "t=1,v1=00"}
    )
    assert (response.status_code, response.json()["error"]["code"]) == (503, "payments_not_configured")
    with session_scope() as session:
        assert session.exec(select(BillingWebhookEvent)).all() == []


def test_pages_mark_the_units_the_plan_does_not_include(app_client: TestClient) -> None:
    from sayzhong.billing.entitlements import locked_unit_ids

    user_id, _ = learner_with_api_token("pages@example.org")
    with session_scope() as session:
        assert locked_unit_ids(session=session, user_id=user_id) == {
            "directions",
            "shopping",
            "family",
            "travel",
            "small-talk",
        }
        service.grant_plus(
            session=session, actor=_admin(), email="pages@example.org", days=1, reason="trial run"
        )
    with session_scope() as session:
        assert locked_unit_ids(session=session, user_id=user_id) == frozenset()


def _azure_fake_module() -> Any:
    """tests/integration/pronunciation/azure_fake.py (a local websocket peer for the real Azure SDK)."""
    import importlib.util

    path = Path(__file__).parents[1] / "pronunciation" / "azure_fake.py"
    spec = importlib.util.spec_from_file_location("azure_fake_for_billing", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


def test_azure_scoring_is_a_plus_feature(
    app_client: TestClient, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sayzhong.settings import reset_settings_cache

    fake_mod = _azure_fake_module()
    fake = fake_mod.FakeAzure(result=fake_mod.azure_result([("你好", 88.0)], display="你好")).start()
    try:
        monkeypatch.setenv("AZURE_SPEECH_KEY", "test-key")
        monkeypatch.setenv("AZURE_SPEECH_HOST", fake.host)
        reset_settings_cache()
        take = synth_wav_bytes([2, 3])

        def upload(email: str) -> str:
            app_client.cookies.set(settings.session_cookie_name, signed_in_learner(email))
            response = app_client.post(
                "/practice/attempts",
                content=take,
                headers={"content-type": "audio/wav", "x-item-id": FREE_ITEM, "origin": settings.app_url},
            )
            assert response.status_code == 201, response.text
            with session_scope() as session:
                row = session.get(Attempt, int(response.json()["attempt_id"]))
                assert row is not None
                return row.engine

        assert upload("free-azure@example.org") == "offline"
        assert fake.paths == []  # Azure was not asked for a Free take
        token = signed_in_learner("plus-azure@example.org")
        with session_scope() as session:
            service.grant_plus(
                session=session, actor=_admin(), email="plus-azure@example.org", days=3, reason="t"
            )
        app_client.cookies.set(settings.session_cookie_name, token)
        response = app_client.post(
            "/practice/attempts",
            content=take,
            headers={"content-type": "audio/wav", "x-item-id": FREE_ITEM, "origin": settings.app_url},
        )
        assert response.status_code == 201, response.text
        with session_scope() as session:
            row = session.get(Attempt, int(response.json()["attempt_id"]))
            assert row is not None and "azure" in row.engine
        assert len(fake.paths) == 1
    finally:
        fake.stop()


def _upload_at_once(user_id: int, takes: list[bytes]) -> list[str]:
    """Send the takes through the API's scoring path from separate threads (each its own session and
    connection), released together; the outcome of each: "scored", or the refusal's code."""
    from sayzhong.api.requests import AttemptUpload
    from sayzhong.api.resources.attempts import _score

    start = threading.Barrier(len(takes))

    def one(index: int) -> str:
        upload = AttemptUpload(FREE_ITEM, takes[index], "audio/wav", f"race-take-{index:04d}-abcdef")
        start.wait()
        try:
            _score(user_id, upload)
        except SayZhongError as exc:
            return exc.code
        return "scored"

    with ThreadPoolExecutor(max_workers=len(takes)) as pool:
        return list(pool.map(one, range(len(takes))))


def test_uploads_racing_for_the_last_free_takes_never_score_more_than_the_limit(
    app_client: TestClient, settings: Settings
) -> None:
    user_id, _ = learner_with_api_token("race@example.org")
    _add_takes(user_id, datetime.now(UTC), settings.free_daily_scored_takes - 2)  # 18 of 20 used
    take = synth_wav_bytes([2, 3])
    outcomes = _upload_at_once(user_id, [take] * 4)
    assert sorted(outcomes) == ["daily_limit", "daily_limit", "scored", "scored"]
    with session_scope() as session:
        scored = session.exec(select(Attempt).where(Attempt.user_id == user_id)).all()
        held = session.exec(select(BillingHeldTake).where(BillingHeldTake.user_id == user_id)).all()
        usage = session.exec(select(BillingDailyUsage).where(BillingDailyUsage.user_id == user_id)).one()
    assert len(scored) == settings.free_daily_scored_takes == usage.scored == 20
    assert len(held) == 2 and all(h.scored_attempt_id is None for h in held)  # kept for later scoring
    assert all((settings.data_dir / "held" / h.audio_path).read_bytes() == take for h in held)


def test_a_take_whose_scoring_fails_gives_its_claim_back(app_client: TestClient, settings: Settings) -> None:
    user_id, _ = learner_with_api_token("broken@example.org")
    _add_takes(user_id, datetime.now(UTC), settings.free_daily_scored_takes - 1)  # one take left
    outcomes = _upload_at_once(user_id, [b"RIFF not really a wav file"])
    assert outcomes == [AudioUnsupportedError().code]
    with session_scope() as session:
        usage = session.exec(select(BillingDailyUsage).where(BillingDailyUsage.user_id == user_id)).one()
    assert usage.scored == settings.free_daily_scored_takes - 1  # the broken take did not use the last one
    assert _upload_at_once(user_id, [synth_wav_bytes([4, 3])]) == ["scored"]
