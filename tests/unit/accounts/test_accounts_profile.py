from __future__ import annotations

import pytest
from sqlmodel import Session

from sayzhong.accounts import users
from sayzhong.errors import NotFoundError, ValidationError
from tests.factories import UserFactory


def test_profile_fields_update(db_session: Session, make_user: UserFactory) -> None:
    user = make_user()
    updated = users.update_profile(
        session=db_session,
        user_id=user.id,
        display_name="  小明 ",
        timezone="Asia/Shanghai",
        daily_goal_minutes=25,
    )
    assert (updated.display_name, updated.timezone, updated.daily_goal_minutes) == (
        "小明",
        "Asia/Shanghai",
        25,
    )
    assert users.get_user(session=db_session, user_id=user.id) == updated


def test_omitted_fields_are_left_alone(db_session: Session, make_user: UserFactory) -> None:
    user = make_user(name="Keep Me")
    updated = users.update_profile(session=db_session, user_id=user.id, daily_goal_minutes=5)
    assert updated.display_name == "Keep Me" and updated.timezone == "UTC"


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone_invalid"),
        ({"daily_goal_minutes": 0}, "daily_goal_invalid"),
        ({"daily_goal_minutes": 241}, "daily_goal_invalid"),
        ({"daily_goal_minutes": True}, "daily_goal_invalid"),
        ({"display_name": "x" * 81}, "display_name_too_long"),
    ],
)
def test_invalid_profile_values_are_refused(
    db_session: Session, make_user: UserFactory, fields: dict[str, object], code: str
) -> None:
    user = make_user()
    with pytest.raises(ValidationError) as info:
        users.update_profile(session=db_session, user_id=user.id, **fields)  # type: ignore[arg-type]
    assert info.value.code == code


def test_control_characters_are_stripped_from_display_names(
    db_session: Session, make_user: UserFactory
) -> None:
    user = make_user()
    updated = users.update_profile(session=db_session, user_id=user.id, display_name="Mei\u202e\x00 Lin")
    assert updated.display_name == "Mei Lin"


def test_unknown_user_is_not_found(db_session: Session) -> None:
    with pytest.raises(NotFoundError):
        users.update_profile(session=db_session, user_id=424242, daily_goal_minutes=5)
