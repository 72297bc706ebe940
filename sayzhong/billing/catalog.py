"""The price list, defined in the repository and pushed to Stripe by
`python -m sayzhong billing sync-catalog`.

Stripe ids are fixed here (Products, Plans and Coupons accept caller-chosen ids), so every
environment — live Stripe, test mode, localstripe — holds the same catalogue under the same names.
Money is integer minor units plus a currency.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

TRIAL_DAYS = 7


@dataclass(frozen=True, slots=True)
class ProductDef:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class PlanDef:
    id: str
    nickname: str
    amount: int
    """Minor units (cents)."""
    currency: str
    interval: Literal["month", "year"]


@dataclass(frozen=True, slots=True)
class CouponDef:
    id: str
    percent_off: int
    duration: Literal["once", "forever"]
    name: str


PLUS_PRODUCT = ProductDef(id="sayzhong_plus", name="SayZhong Plus")
PLUS_MONTHLY = PlanDef(
    id="sayzhong_plus_monthly", nickname="Plus monthly", amount=999, currency="eur", interval="month"
)
PLUS_ANNUAL = PlanDef(
    id="sayzhong_plus_annual", nickname="Plus annual", amount=7999, currency="eur", interval="year"
)
PLANS: tuple[PlanDef, ...] = (PLUS_MONTHLY, PLUS_ANNUAL)
COUPONS: tuple[CouponDef, ...] = (
    CouponDef(id="LAUNCH20", percent_off=20, duration="once", name="Launch: 20 % off the first invoice"),
)


def plan(plan_id: str) -> PlanDef | None:
    return next((p for p in PLANS if p.id == plan_id), None)


def coupon(coupon_id: str) -> CouponDef | None:
    wanted = coupon_id.strip().upper()
    return next((c for c in COUPONS if c.id == wanted), None)


def format_money(amount: int, currency: str) -> str:
    """1999, "eur" -> "€19.99" (minus sign in front for credits)."""
    symbol = {"eur": "€", "usd": "$", "gbp": "£"}.get(currency.lower(), currency.upper() + " ")
    sign = "−" if amount < 0 else ""
    return f"{sign}{symbol}{abs(amount) / 100:.2f}"
