"""Pure billing rules: the learner's local day (DST included), trial status, retry backoff, money."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sayzhong.billing import catalog
from sayzhong.billing.entitlements import effective_status, local_day_bounds
from sayzhong.billing.models import BillingSubscription
from sayzhong.billing.webhooks import backoff


def test_the_local_day_runs_from_local_midnight_to_local_midnight() -> None:
    now = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
    start, end = local_day_bounds("Asia/Shanghai", now)
    assert (start, end) == (
        datetime(2026, 11, 29, 16, 0, tzinfo=UTC),
        datetime(2026, 11, 30, 16, 0, tzinfo=UTC),
    )


def test_a_day_with_a_clock_change_ends_at_the_next_wall_clock_midnight() -> None:
    # Europe/Berlin leaves summer time on 25 Oct 2026: that local day has 25 hours.
    start, end = local_day_bounds("Europe/Berlin", datetime(2026, 10, 25, 12, 0, tzinfo=UTC))
    assert end - start == timedelta(hours=25)
    assert end == datetime(2026, 10, 25, 23, 0, tzinfo=UTC)


def test_an_unknown_time_zone_counts_in_utc() -> None:
    start, _ = local_day_bounds("Mars/Olympus", datetime(2026, 11, 30, 10, 0, tzinfo=UTC))
    assert start == datetime(2026, 11, 30, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("status", "trial_days", "invoice", "expected"),
    [
        ("trialing", 3, None, "trialing"),
        ("incomplete", 3, None, "trialing"),  # localstripe's way of saying "trial"
        ("incomplete", 3, "in_1", "incomplete"),  # an unpaid first invoice is not a trial
        ("incomplete", -1, None, "incomplete"),  # the trial is over
        ("past_due", 0, "in_1", "past_due"),
    ],
)
def test_effective_status(status: str, trial_days: int, invoice: str | None, expected: str) -> None:
    now = datetime(2026, 11, 30, tzinfo=UTC)
    row = BillingSubscription(
        user_id=1,
        stripe_subscription_id="sub_1",
        plan_id="p",
        status=status,
        trial_end=now + timedelta(days=trial_days) if trial_days else None,
        latest_invoice_id=invoice,
    )
    assert effective_status(row, now) == expected


def test_retries_back_off_exponentially_and_are_capped() -> None:
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert backoff(20) == timedelta(hours=6)


def test_money_is_shown_from_minor_units() -> None:
    assert catalog.format_money(999, "eur") == "€9.99"
    assert catalog.format_money(-999, "eur") == "−€9.99"
    assert catalog.format_money(7999, "usd") == "$79.99"


def test_the_catalogue_prices_annual_below_twelve_months() -> None:
    assert catalog.PLUS_ANNUAL.amount < 12 * catalog.PLUS_MONTHLY.amount
    assert catalog.plan("sayzhong_plus_annual") is catalog.PLUS_ANNUAL and catalog.plan("nope") is None
    assert catalog.coupon(" launch20 ") is not None


def test_discount_codes_are_described_in_plain_words() -> None:
    from sayzhong.billing.ports import CouponInfo
    from sayzhong.billing.service import describe_coupon

    def coupon(**kw: object) -> CouponInfo:
        base: dict[str, object] = {
            "id": "X",
            "percent_off": None,
            "amount_off": None,
            "currency": None,
            "duration": "once",
            "duration_in_months": None,
            "valid": True,
        }
        return CouponInfo(**{**base, **kw})  # type: ignore[arg-type]

    assert describe_coupon(coupon(percent_off=20.0)) == "20 % off the first invoice"
    assert describe_coupon(coupon(percent_off=12.5, duration="forever")) == "12.5 % off every invoice"
    assert (
        describe_coupon(coupon(amount_off=500, currency="eur", duration="repeating", duration_in_months=3))
        == "€5.00 off for 3 months"
    )


def test_the_clients_plan_message_always_names_a_full_upgrade_address() -> None:
    from sayzhong.client.api import PlanRequiredError

    relative = PlanRequiredError(
        "“Directions” is part of SayZhong Plus. See the plans at /pricing.",
        code="plan_required",
        upgrade_url="http://school.example/pricing",
    )
    assert relative.message.endswith("Upgrade: http://school.example/pricing") and relative.status == 402
    full = PlanRequiredError(
        "See the plans at https://sayzhong.app/pricing.", code="plan_required", upgrade_url="http://x/pricing"
    )
    assert full.message == "See the plans at https://sayzhong.app/pricing."
