"""Who may read which BI page, and the CSV download route (same checks, aggregates only)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date

import pytest
from sqlmodel import Session, SQLModel, col, select
from starlette.testclient import TestClient

from sayzhong import routes
from sayzhong.accounts import access
from sayzhong.accounts.models import User
from sayzhong.bi import aggregate, views
from sayzhong.bi.models import BiCohortWeek, BiDailyActivity
from sayzhong.db import get_engine, session_scope
from sayzhong.errors import AuthenticationError, NotFoundError, PermissionDeniedError
from sayzhong.http.app import create_http_app, security_headers
from sayzhong.models import load_all_models
from sayzhong.settings import Settings
from tests.factories import signed_in_learner
from tests.support.bi_scenario import build_learners


class _Actor:
    def __init__(self, role: str, two_factor: bool = True) -> None:
        self.role, self.two_factor_enabled = role, two_factor


def test_sections_per_role() -> None:
    assert access.bi_sections(_Actor("analyst")) == [s for s in access.BI_SECTIONS if s != "support"]
    assert access.bi_sections(_Actor("admin")) == list(access.BI_SECTIONS)
    assert access.bi_sections(_Actor("marketing")) == ["acquisition"]
    assert access.bi_sections(_Actor("support")) == ["support"]
    assert access.bi_sections(_Actor("learner")) == []
    assert access.Role.ANALYST in access.STAFF_ROLES  # so the staff 2FA rule applies to analysts too


def test_section_view_checks_role_and_two_factor(db_session: Session) -> None:
    day = date(2026, 3, 2)
    db_session.add(BiDailyActivity(day=day, segment="all", dau=7, wau=9, mau=12))
    db_session.flush()
    view = views.section_view(
        session=db_session, actor=_Actor("analyst"), section="overview", start=day, end=day
    )
    assert {k.key: k.value for k in view.kpis}["dau"] == 7
    assert view.chart == [{"x": "2026-03-02", "dau": 7, "wau": 9, "mau": 12}]
    with pytest.raises(PermissionDeniedError):
        views.section_view(
            session=db_session, actor=_Actor("marketing"), section="revenue", start=day, end=day
        )
    with pytest.raises(PermissionDeniedError, match="two-factor"):
        views.section_view(
            session=db_session,
            actor=_Actor("analyst", two_factor=False),
            section="overview",
            start=day,
            end=day,
        )
    with pytest.raises(AuthenticationError):
        views.section_view(session=db_session, actor=None, section="overview", start=day, end=day)
    with pytest.raises(NotFoundError):
        views.section_view(session=db_session, actor=_Actor("admin"), section="secrets", start=day, end=day)
    marketing = views.section_view(
        session=db_session, actor=_Actor("marketing"), section="acquisition", start=day, end=day
    )
    assert marketing.tables[0].key == "acquisition"


def test_formatting_for_the_pages() -> None:
    assert views.format_cell("signups", None) == "<5"
    assert views.format_cell("visit_to_signup", 0.25) == "25.0%"
    assert views.format_cell("cac", 620) == "€6.20"
    assert views.heat(1.0) != views.heat(0.1) and views.heat(None) == "transparent"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    load_all_models()
    SQLModel.metadata.create_all(get_engine())
    with TestClient(
        security_headers(create_http_app()), base_url=settings.app_url, raise_server_exceptions=False
    ) as c:
        yield c


def _make_staff(email: str, role: str, two_factor: bool = True) -> None:
    with session_scope() as session:
        row = session.exec(select(User).where(col(User.email) == email)).one()
        row.role, row.two_factor_enabled = role, two_factor
        session.add(row)


def test_csv_download_route(client: TestClient, settings: Settings) -> None:
    analyst = signed_in_learner("analyst@example.org")
    marketer = signed_in_learner("marketing@example.org")
    learner = signed_in_learner("learner@example.org")
    _make_staff("analyst@example.org", "analyst")
    _make_staff("marketing@example.org", "marketing")
    with session_scope() as session:
        build_learners(session)
    with session_scope() as session:
        aggregate.aggregate(session=session, start=date(2026, 3, 2), end=date(2026, 3, 2), timezone="UTC")
    query = {"section": "overview", "table": "overview_daily", "from": "2026-03-02", "to": "2026-03-02"}

    def get(token: str | None, **params: str) -> object:
        client.cookies.clear()
        if token:
            client.cookies.set(settings.session_cookie_name, token)
        return client.get(routes.BI_EXPORT, params={**query, **params})

    ok = get(analyst)
    assert ok.status_code == 200, ok.text  # type: ignore[attr-defined]
    assert ok.headers["content-disposition"].startswith("attachment;")  # type: ignore[attr-defined]
    rows = list(csv.reader(io.StringIO(ok.text)))  # type: ignore[attr-defined]
    # The scenario's learners (staff excluded): 3 active on 03-02, 4 in the week, 1 new, 4 takes.
    assert rows == [
        ["day", "dau", "wau", "mau", "new_learners", "takes"],
        ["2026-03-02", "3", "4", "4", "1", "4"],
    ]
    assert get(marketer).status_code == 403  # type: ignore[attr-defined]
    assert get(learner).status_code == 403  # type: ignore[attr-defined]
    assert get(None).status_code == 401  # type: ignore[attr-defined]
    assert get(analyst, table="nope").status_code == 404  # type: ignore[attr-defined]
    bad = get(analyst, **{"from": "yesterday"})
    assert bad.status_code == 400 and "2026-11-30" in bad.text  # type: ignore[attr-defined]


def test_csv_download_route_takes_the_cohort_filter(client: TestClient, settings: Settings) -> None:
    analyst = signed_in_learner("analyst@example.org")
    _make_staff("analyst@example.org", "analyst")
    w1, w2 = date(2026, 2, 16), date(2026, 2, 23)
    with session_scope() as session:
        for cohort, size, active in ((w1, 10, 6), (w2, 8, 5)):
            session.add(
                BiCohortWeek(
                    cohort_week=cohort,
                    activity_week=cohort,
                    segment="all",
                    cohort_size=size,
                    active_learners=active,
                )
            )
    client.cookies.set(settings.session_cookie_name, analyst)
    query = {"section": "retention", "table": "cohorts", "from": "2026-02-16", "to": "2026-03-01"}

    def cohort_weeks(**params: str) -> list[str]:
        response = client.get(routes.BI_EXPORT, params={**query, **params})
        assert response.status_code == 200, response.text
        return [row[0] for row in csv.reader(io.StringIO(response.text))][1:]

    assert cohort_weeks() == ["2026-02-16", "2026-02-23"]
    assert cohort_weeks(cohort_from="2026-02-25") == ["2026-02-23"]  # a Wednesday: its week
    assert cohort_weeks(cohort_from="2026-02-16", cohort_to="2026-02-16") == ["2026-02-16"]
    assert cohort_weeks(cohort_from="", cohort_to="") == ["2026-02-16", "2026-02-23"]  # empty: no bound
    wrong = client.get(
        routes.BI_EXPORT, params={**query, "cohort_from": "2026-02-23", "cohort_to": "2026-02-16"}
    )
    assert wrong.status_code == 400 and "before the first" in wrong.text
    bad = client.get(routes.BI_EXPORT, params={**query, "cohort_from": "last week"})
    assert bad.status_code == 400 and "cohort_from" in bad.text
