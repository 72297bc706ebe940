"""Share cards: a real scored take becomes a PNG with CJK glyphs and the two contours, a public page
with Open Graph tags and no personal data, revocable (404 after); visits and sign-ups are counted."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator

import pytest
from PIL import Image
from sqlmodel import Session, SQLModel, select
from starlette.testclient import TestClient

from sayzhong import routes
from sayzhong.accounts.models import User
from sayzhong.db import get_engine, session_scope
from sayzhong.errors import NotFoundError, ValidationError
from sayzhong.growth import referrals, render, sharing
from sayzhong.growth.models import Referral, ShareCard
from sayzhong.http.app import create_http_app, security_headers
from sayzhong.models import load_all_models
from sayzhong.practice import service as practice
from sayzhong.practice.models import LearnerProfile
from sayzhong.settings import Settings
from tests.factories import AttemptFactory, UserFactory

EMAIL = "mei.lin.private@example.org"


@pytest.fixture
def app_client(settings: Settings) -> Iterator[TestClient]:
    load_all_models()
    SQLModel.metadata.create_all(get_engine())
    with TestClient(security_headers(create_http_app()), base_url=settings.backend_url) as c:
        yield c


@pytest.fixture
def shared(app_client: TestClient, speak: Callable[..., bytes]) -> sharing.ShareView:
    """Mei's real take of 你好 (offline engine on espeak-ng speech), shared without her name."""
    with session_scope() as session:
        mei = UserFactory(session)(EMAIL, name="Mei Lin")
        view = practice.score_attempt(
            session=session,
            user_id=mei.id,
            item_id="greetings.hello",
            audio=speak("你好"),
            content_type="audio/wav",
            engine="offline",
        )
        return sharing.share_result(session=session, user_id=mei.id, attempt_id=view.id)


def _ink(image: Image.Image, box: tuple[int, int, int, int]) -> int:
    """Pixels in `box` that differ clearly from the card's background."""
    region = image.crop(box).convert("RGB")
    bg = render.BACKGROUND
    return sum(
        1 for px in region.get_flattened_data() if sum(abs(a - b) for a, b in zip(px, bg, strict=True)) > 120
    )


def test_the_card_is_a_png_with_hanzi_score_and_both_contours(
    app_client: TestClient, shared: sharing.ShareView
) -> None:
    assert shared.payload["hanzi"] == "你好" and 0 <= shared.payload["score"] <= 100
    assert shared.payload["pinyin"] in ("nǐ hǎo", "ní hǎo")  # tone marks, not numbers
    assert all(s["learner"] and s["target"] for s in shared.payload["syllables"])
    response = app_client.get(routes.share_image_path(shared.slug))
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert image.format == "PNG" and image.size == (render.WIDTH, render.HEIGHT)
    # The hanzi are drawn (a font without CJK glyphs draws nothing or empty boxes of few pixels).
    hanzi_box = (render.TEXT_BOX[0], render.TEXT_BOX[1], render.TEXT_BOX[0] + 300, render.TEXT_BOX[1] + 160)
    assert _ink(image, hanzi_box) > 4000
    # Learner (teal) and target (grey) lines inside the chart.
    chart = image.crop(render.CHART_BOX).convert("RGB")
    colours = list(chart.get_flattened_data())
    assert sum(1 for px in colours if px == render.LEARNER) > 200
    assert sum(1 for px in colours if px == render.TARGET) > 100
    assert EMAIL.encode() not in response.content and b"Mei" not in response.content


def test_the_hanzi_really_come_from_a_cjk_font() -> None:
    """Drawn with the CJK font, 你 differs from the font's 'missing glyph' box (tofu)."""
    font = render.font(100)
    assert font.getmask("你").getbbox() is not None
    assert bytes(font.getmask("你")) != bytes(font.getmask("\U000f0000"))


def test_the_public_page_has_open_graph_tags_and_no_personal_data(
    app_client: TestClient, shared: sharing.ShareView, settings: Settings
) -> None:
    response = app_client.get(routes.share_path(shared.slug))
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    page = response.text
    image_url = settings.backend_url.rstrip("/") + routes.share_image_path(shared.slug)
    assert f"<meta property='og:image' content='{image_url}'>" in page
    assert f"<meta property='og:url' content='{settings.backend_url.rstrip('/')}/s/{shared.slug}'>" in page
    for tag in ("og:title", "og:description", "og:image:alt", "twitter:card", "twitter:image"):
        assert re.search(rf"(property|name)='{tag}' content='[^']+'", page), tag
    assert "summary_large_image" in page and "你好" in page
    assert EMAIL not in page and "Mei" not in page and "Lin" not in page
    assert "A learner is practising" in page
    with session_scope() as session:
        assert session.exec(select(ShareCard)).one().visits == 1


def test_the_first_name_appears_only_when_chosen(app_client: TestClient, shared: sharing.ShareView) -> None:
    with session_scope() as session:
        mei = session.exec(select(User).where(User.email == EMAIL)).one()
        assert mei.id is not None
        attempt_id = practice.list_attempts(session=session, user_id=mei.id)[0].id
        named = sharing.share_result(session=session, user_id=mei.id, attempt_id=attempt_id, show_name=True)
    page = app_client.get(routes.share_path(named.slug)).text
    assert "Mei is practising" in page and "Lin" not in page and EMAIL not in page


def test_a_revoked_share_answers_404_everywhere(app_client: TestClient, shared: sharing.ShareView) -> None:
    with session_scope() as session:
        owner = session.exec(select(User).where(User.email == EMAIL)).one()
        assert owner.id is not None
        intruder = UserFactory(session)("intruder@example.org")
        with pytest.raises(NotFoundError):
            sharing.revoke_share(session=session, user_id=intruder.id, slug=shared.slug)
        sharing.revoke_share(session=session, user_id=owner.id, slug=shared.slug)
    for path in (routes.share_path(shared.slug), routes.share_image_path(shared.slug)):
        response = app_client.get(path)
        assert response.status_code == 404, path
        assert "你好" not in response.text
    assert app_client.get(routes.share_path("not-a-real-slug-1")).status_code == 404
    join = app_client.get(routes.share_join_path(shared.slug), follow_redirects=False)
    assert join.status_code == 303 and referrals.REF_COOKIE not in join.headers.get("set-cookie", "")


def test_a_sign_up_through_a_share_is_attributed_to_it(
    app_client: TestClient, shared: sharing.ShareView
) -> None:
    join = app_client.get(routes.share_join_path(shared.slug), follow_redirects=False)
    assert join.status_code == 303 and join.headers["location"].endswith(routes.SIGN_UP)
    cookie = join.headers["set-cookie"]
    assert cookie.startswith(f"{referrals.REF_COOKIE}=") and "HttpOnly" in cookie
    ref = referrals.ref_from_cookie_header(cookie.split(";")[0])
    with session_scope() as session:
        friend = UserFactory(session)("friend@example.net")
        attribution = referrals.attribute_sign_up(session=session, user_id=friend.id, ref=ref)
        assert attribution is not None and attribution.source == "share"
        owner = session.exec(select(User).where(User.email == EMAIL)).one()
        assert owner.id is not None and attribution.referrer_id == owner.id
        (listed,) = sharing.list_shares(session=session, user_id=owner.id)
        assert listed.sign_ups == 1
        assert session.exec(select(Referral)).one().share_id is not None


def test_the_invite_link_sets_an_httponly_cookie_and_opens_sign_up(
    app_client: TestClient, settings: Settings
) -> None:
    with session_scope() as session:
        ana = UserFactory(session)("ana@example.com")
        code = referrals.code_for(session=session, user_id=ana.id)
    response = app_client.get(routes.referral_path(code), follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == settings.app_url.rstrip("/") + routes.SIGN_UP
    assert f"{referrals.REF_COOKIE}=c.{code}" in response.headers["set-cookie"]
    assert "HttpOnly" in response.headers["set-cookie"]
    unknown = app_client.get(routes.referral_path("unknowncode123"), follow_redirects=False)
    assert unknown.status_code == 303 and "set-cookie" not in unknown.headers


def test_streak_cards_and_refusals(
    db_session: Session, make_user: UserFactory, make_attempt: AttemptFactory
) -> None:
    mei = make_user("mei@example.org")
    with pytest.raises(ValidationError):
        sharing.share_streak(session=db_session, user_id=mei.id)
    make_attempt(mei.id)
    profile = db_session.exec(select(LearnerProfile).where(LearnerProfile.user_id == mei.id)).one()
    assert profile.streak_days == 1
    card = sharing.share_streak(session=db_session, user_id=mei.id)
    assert card.kind == "streak" and card.payload["streak_days"] == 1
    png = render.render_share(card.kind, card.payload, None)
    image = Image.open(io.BytesIO(png))
    assert image.size == (render.WIDTH, render.HEIGHT)
    assert _ink(image, render.TEXT_BOX) > 4000
    other = make_user("other@example.org")
    attempt = make_attempt(mei.id)
    with pytest.raises(NotFoundError):
        sharing.share_result(session=db_session, user_id=other.id, attempt_id=attempt.id)


def test_a_missing_font_is_a_clear_error(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from sayzhong.settings import reset_settings_cache

    monkeypatch.setenv("SHARE_FONT_PATH", "/nonexistent/font.ttc")
    reset_settings_cache()
    with pytest.raises(render.FontMissingError, match="SHARE_FONT_PATH"):
        render.font_path()


def test_visits_are_tracked_for_consenting_visitors_only(
    app_client: TestClient, shared: sharing.ShareView
) -> None:
    from sayzhong.analytics import service as analytics
    from sayzhong.growth import events
    from sayzhong.privacy import consent

    agreed, unknown = consent.new_visitor_id(), consent.new_visitor_id()
    with session_scope() as session:
        consent.record_consent(
            session=session, visitor_id=agreed, user_id=None, analytics=True, marketing=False, source="banner"
        )
    for visitor in (agreed, unknown):
        app_client.cookies.set(consent.COOKIE_NAME, visitor)
        assert app_client.get(routes.share_path(shared.slug)).status_code == 200
    with session_scope() as session:
        seen = analytics.list_events(session=session, event=events.SHARE_VISITED)
        assert [(e.distinct_id, e.properties) for e in seen] == [(agreed, {"kind": "result"})]
        assert session.exec(select(ShareCard)).one().visits == 2
