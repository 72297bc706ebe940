"""When reminders are due, in the learner's own time zone — pure functions, a frozen clock, no sleeping.

2026 changes: New York springs forward on 8 March and falls back on 1 November; London on 29 March
and 25 October. A learner at 08:00 local must get the reminder at 08:00 on their clock on both sides.
"""

from __future__ import annotations

import email
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from sayzhong.errors import ValidationError
from sayzhong.notifications.preferences import parse_dsn, parse_reminder_time
from sayzhong.notifications.reminders import daily_due, local_instant, streak_due, weekly_due

NEW_YORK, LONDON = ZoneInfo("America/New_York"), ZoneInfo("Europe/London")
EIGHT = time(8, 0)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("tz", "day", "expected_utc"),
    [
        (NEW_YORK, date(2026, 3, 7), utc(2026, 3, 7, 13, 0)),  # EST, UTC-5
        (NEW_YORK, date(2026, 3, 9), utc(2026, 3, 9, 12, 0)),  # EDT, UTC-4
        (NEW_YORK, date(2026, 10, 31), utc(2026, 10, 31, 12, 0)),  # EDT
        (NEW_YORK, date(2026, 11, 2), utc(2026, 11, 2, 13, 0)),  # EST again
        (LONDON, date(2026, 3, 28), utc(2026, 3, 28, 8, 0)),  # GMT
        (LONDON, date(2026, 3, 30), utc(2026, 3, 30, 7, 0)),  # BST, UTC+1
        (LONDON, date(2026, 10, 24), utc(2026, 10, 24, 7, 0)),  # BST
        (LONDON, date(2026, 10, 26), utc(2026, 10, 26, 8, 0)),  # GMT again
    ],
)
def test_eight_oclock_is_eight_on_the_learners_clock_both_sides_of_the_change(
    tz: ZoneInfo, day: date, expected_utc: datetime
) -> None:
    assert local_instant(day, EIGHT, tz) == expected_utc
    assert daily_due(expected_utc, tz, EIGHT) == day
    # One minute earlier it is 07:59 there: not yet.
    assert daily_due(expected_utc - timedelta(minutes=1), tz, EIGHT) is None


def test_the_day_of_the_change_itself() -> None:
    # New York, Sunday 8 March 2026: clocks jump 02:00 → 03:00 EDT; 08:00 EDT is 12:00 UTC.
    assert daily_due(utc(2026, 3, 8, 11, 59), NEW_YORK, EIGHT) is None
    assert daily_due(utc(2026, 3, 8, 12, 0), NEW_YORK, EIGHT) == date(2026, 3, 8)
    # London, Sunday 25 October 2026: clocks go back 02:00 → 01:00 GMT; 08:00 GMT is 08:00 UTC.
    assert daily_due(utc(2026, 10, 25, 7, 59), LONDON, EIGHT) is None
    assert daily_due(utc(2026, 10, 25, 8, 0), LONDON, EIGHT) == date(2026, 10, 25)


def test_a_time_skipped_by_spring_forward_is_sent_an_hour_later_on_the_clock() -> None:
    # 02:30 does not exist in New York on 8 March 2026: the reminder goes at 03:30 EDT = 07:30 UTC.
    assert local_instant(date(2026, 3, 8), time(2, 30), NEW_YORK) == utc(2026, 3, 8, 7, 30)


def test_the_daily_window_closes_two_hours_after_the_chosen_time() -> None:
    assert daily_due(utc(2026, 6, 1, 8, 59), LONDON, EIGHT) == date(2026, 6, 1)  # 09:59 BST
    assert daily_due(utc(2026, 6, 1, 9, 0), LONDON, EIGHT) is None  # 10:00 BST


def test_a_late_evening_window_may_cross_midnight_and_belongs_to_the_day_it_started() -> None:
    late = time(23, 30)
    assert daily_due(utc(2026, 6, 2, 0, 15), ZoneInfo("UTC"), late) == date(2026, 6, 1)


def test_streak_window_is_the_last_three_hours_before_local_midnight() -> None:
    assert streak_due(utc(2026, 3, 9, 0, 59), NEW_YORK) is None  # 20:59 EDT on the 8th
    assert streak_due(utc(2026, 3, 9, 1, 0), NEW_YORK) == date(2026, 3, 8)  # 21:00 EDT
    assert streak_due(utc(2026, 3, 9, 3, 59), NEW_YORK) == date(2026, 3, 8)  # 23:59 EDT
    assert streak_due(utc(2026, 3, 9, 4, 0), NEW_YORK) is None  # midnight: a new day


def test_weekly_summary_only_on_monday_from_the_reminder_time() -> None:
    monday = date(2026, 3, 30)  # the first Monday of British Summer Time
    assert weekly_due(utc(2026, 3, 30, 6, 59), LONDON, EIGHT) is None
    assert weekly_due(utc(2026, 3, 30, 7, 0), LONDON, EIGHT) == monday
    assert weekly_due(utc(2026, 3, 30, 22, 59), LONDON, EIGHT) == monday
    assert weekly_due(utc(2026, 3, 31, 7, 0), LONDON, EIGHT) is None  # Tuesday


@pytest.mark.parametrize("value", ["8", "24:00", "08:60", "08-30", "", "08:30:00", "८:३०"])
def test_reminder_times_other_than_hh_mm_are_refused_in_plain_words(value: str) -> None:
    with pytest.raises(ValidationError, match="hours and minutes"):
        parse_reminder_time(value)


def test_reminder_time_parses() -> None:
    assert parse_reminder_time(" 07:05 ") == time(7, 5)


DSN = b"""From: MAILER-DAEMON@mx.example.net
To: hello@sayzhong.app
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

This is the mail system. Your message could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; Gone.User@Example.org
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 user unknown

Final-Recipient: rfc822; full@example.org
Action: delayed
Status: 4.2.2
Diagnostic-Code: smtp; 452 mailbox full

--B--
"""


def test_a_delivery_status_notification_yields_only_its_permanent_failures() -> None:
    failures = parse_dsn(email.message_from_bytes(DSN))
    assert [(f.email, f.status, f.diagnostic) for f in failures] == [
        ("gone.user@example.org", "5.1.1", "550 5.1.1 user unknown")
    ]


def test_an_ordinary_mail_is_not_a_bounce() -> None:
    assert parse_dsn(email.message_from_bytes(b"Subject: hi\n\nhello\n")) == []


def test_smtp_keeps_a_long_list_unsubscribe_header_readable() -> None:
    """At the default 78 columns the stdlib would RFC 2047-encode a long link; mail clients could
    not use it. The header must reach the wire as plain `<https://…>, <mailto:…>`."""
    from sayzhong.integrations.smtp_mailer import SmtpMailer
    from sayzhong.notifications.ports import EmailMessageData

    url = "https://sayzhong.example.org/email/unsubscribe/" + "eyJ1IjoxMjM0NSwiYyI6ImRhaWx5In0." + "x" * 27
    header = f"<{url}>, <mailto:unsubscribe@sayzhong.example.org?subject=unsubscribe%20daily>"
    mime = SmtpMailer(
        host="127.0.0.1", port=25, mail_from="SayZhong <hello@sayzhong.example.org>"
    ).build_message(
        EmailMessageData(
            to="ana@example.com",
            subject="Reminder",
            text_body="Hi",
            headers=(("List-Unsubscribe", header), ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")),
        )
    )
    wire = mime.as_bytes().decode()
    assert f"List-Unsubscribe: {header}\n" in wire
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click\n" in wire
    assert "=?utf-8?" not in wire
