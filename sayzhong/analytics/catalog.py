"""The event catalogue: every product event SayZhong may emit, with typed properties and its consent
category. `analytics.service.track` accepts only events listed here and checks their properties, so
this module is the one place to read (or review) what product analytics collects.

Properties are structured values only — choices from a fixed list, short identifiers, site paths,
whole numbers, yes/no. There is no free-text kind, and tests/unit/analytics/test_analytics_catalog.py
fails on any property that looks like personal data (e-mail, names, messages, addresses).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sayzhong.errors import ValidationError


class Consent(StrEnum):
    """The cookie-banner category an event needs before it is recorded anywhere."""

    ANALYTICS = "analytics"
    MARKETING = "marketing"


class Kind(StrEnum):
    CHOICE = "choice"
    """One of `Prop.choices`."""
    SLUG = "slug"
    """A short machine identifier: lower-case letters, digits, `_ . -` (campaign names, item ids)."""
    PATH = "path"
    """A site path starting with `/`, without query string (no tokens or e-mail in links)."""
    INT = "int"
    BOOL = "bool"


_SLUG = re.compile(r"^[a-z0-9][a-z0-9_.:-]{0,63}$")
_PATH = re.compile(r"^/[A-Za-z0-9/_.~-]{0,199}$")


@dataclass(frozen=True, slots=True)
class Prop:
    name: str
    kind: Kind
    choices: tuple[str, ...] = ()
    required: bool = False
    minimum: int = 0
    maximum: int = 10**9

    def check(self, event: str, value: Any) -> Any:
        def bad(why: str) -> ValidationError:
            return ValidationError(
                f"Analytics event {event!r}: property {self.name!r} {why}.", code="analytics_bad_property"
            )

        if self.kind is Kind.BOOL:
            if not isinstance(value, bool):
                raise bad("must be true or false")
            return value
        if self.kind is Kind.INT:
            if isinstance(value, bool) or not isinstance(value, int):
                raise bad("must be a whole number")
            if not self.minimum <= value <= self.maximum:
                raise bad(f"must be between {self.minimum} and {self.maximum}")
            return value
        if not isinstance(value, str):
            raise bad("must be text from a fixed shape")
        if self.kind is Kind.CHOICE and value not in self.choices:
            raise bad(f"must be one of {', '.join(self.choices)}")
        if self.kind is Kind.SLUG and not _SLUG.match(value):
            raise bad("must be a short lower-case identifier")
        if self.kind is Kind.PATH and not _PATH.match(value):
            raise bad("must be a site path like /practice")
        return value


@dataclass(frozen=True, slots=True)
class EventDef:
    name: str
    description: str
    consent: Consent
    properties: tuple[Prop, ...] = ()

    def validate(self, properties: dict[str, Any] | None) -> dict[str, Any]:
        """The properties, checked against the definition (unknown or malformed ones raise)."""
        given = dict(properties or {})
        known = {p.name: p for p in self.properties}
        unknown = sorted(set(given) - set(known))
        if unknown:
            raise ValidationError(
                f"Analytics event {self.name!r} has no property {unknown[0]!r}.",
                code="analytics_unknown_property",
            )
        clean: dict[str, Any] = {}
        for prop in self.properties:
            if prop.name not in given or given[prop.name] is None:
                if prop.required:
                    raise ValidationError(
                        f"Analytics event {self.name!r} needs {prop.name!r}.", code="analytics_bad_property"
                    )
                continue
            clean[prop.name] = prop.check(self.name, given[prop.name])
        return clean


DEVICES = ("desktop", "mobile", "tablet")
CHANNELS = ("direct", "paid_search", "paid_social", "organic_search", "social", "email", "referral", "other")
PRACTICE_MODES = ("practice", "dialogue", "placement", "calibration", "review")
ENGINES = ("offline", "azure+offline", "azure")
PLANS = ("monthly", "annual")
CURRENCIES = ("eur", "usd", "gbp", "chf")

_CHANNEL = Prop("channel", Kind.CHOICE, CHANNELS)
_CAMPAIGN = Prop("campaign", Kind.SLUG)
_DEVICE = Prop("device", Kind.CHOICE, DEVICES)

PAGE_VIEWED = EventDef(
    "page_viewed",
    "A page was shown (the browser beacon, after consent). A person's first one is the funnel's visit.",
    Consent.ANALYTICS,
    (Prop("path", Kind.PATH, required=True), _DEVICE, _CHANNEL, _CAMPAIGN),
)
SIGNED_UP = EventDef(
    "signed_up",
    "An account was created (first-touch channel and campaign attached).",
    Consent.ANALYTICS,
    (Prop("method", Kind.CHOICE, ("password", "oidc")), _CHANNEL, _CAMPAIGN),
)
ONBOARDING_STARTED = EventDef("onboarding_started", "The onboarding flow was opened.", Consent.ANALYTICS)
MIC_CHECK_PASSED = EventDef(
    "mic_check_passed",
    "The microphone check in onboarding passed.",
    Consent.ANALYTICS,
    (Prop("recordings", Kind.INT, maximum=1000),),
)
ONBOARDING_FINISHED = EventDef(
    "onboarding_finished",
    "Onboarding was completed (goal, level, which optional steps were done).",
    Consent.ANALYTICS,
    (
        Prop("goal", Kind.SLUG),
        Prop("level", Kind.SLUG),
        Prop("mic_check_passed", Kind.BOOL),
        Prop("placement_done", Kind.BOOL),
    ),
)
FIRST_ATTEMPT_SCORED = EventDef(
    "first_attempt_scored",
    "A learner's first take was scored.",
    Consent.ANALYTICS,
    (
        Prop("item_id", Kind.SLUG),
        Prop("mode", Kind.CHOICE, PRACTICE_MODES),
        Prop("engine", Kind.CHOICE, ENGINES),
        Prop("pron", Kind.INT, maximum=100),
    ),
)
RETURNED = EventDef(
    "returned",
    "A learner practised on a later day than sign-up (first scored take of that UTC day); `day` counts "
    "days since sign-up, so day >= 1 is a second-day return and day >= 6 a seventh-day return.",
    Consent.ANALYTICS,
    (Prop("day", Kind.INT, required=True, maximum=100_000),),
)
TRIAL_STARTED = EventDef(
    "trial_started",
    "A Plus trial started (billing).",
    Consent.ANALYTICS,
    (Prop("plan", Kind.CHOICE, PLANS), Prop("trial_days", Kind.INT, maximum=365)),
)
SUBSCRIPTION_PAID = EventDef(
    "subscription_paid",
    "An invoice for Plus was paid (billing webhook); amount in minor units.",
    Consent.ANALYTICS,
    (
        Prop("plan", Kind.CHOICE, PLANS),
        Prop("amount_minor", Kind.INT, maximum=10**7),
        Prop("currency", Kind.CHOICE, CURRENCIES),
    ),
)
EXPERIMENT_EXPOSED = EventDef(
    "experiment_exposed",
    "A variant of an experiment was shown to this person (logged when shown, not when assigned).",
    Consent.ANALYTICS,
    (Prop("key", Kind.SLUG, required=True), Prop("variant", Kind.SLUG, required=True)),
)
AD_CONVERSION = EventDef(
    "ad_conversion",
    "A learner's first paid Plus invoice (billing webhook, once per account), with the account's "
    "last-touch channel and campaign, for the advertising tags (marketing consent only).",
    Consent.MARKETING,
    (_CHANNEL, _CAMPAIGN),
)
# Referrals and share cards (issue 14, sayzhong/growth).
REFERRAL_SIGNED_UP = EventDef(
    "referral_signed_up",
    "An account was created through an invite link or a shared result.",
    Consent.ANALYTICS,
    (
        Prop("source", Kind.CHOICE, ("link", "share"), required=True),
        Prop("status", Kind.CHOICE, ("pending", "refused"), required=True),
        Prop("reason", Kind.CHOICE, ("self_referral", "same_device", "disposable_email", "monthly_cap")),
    ),
)
REFERRAL_REWARDED = EventDef(
    "referral_rewarded",
    "A referred learner's first scored take gave one side of the referral its Plus days.",
    Consent.ANALYTICS,
    (Prop("role", Kind.CHOICE, ("referrer", "referred"), required=True), Prop("days", Kind.INT, maximum=365)),
)
SHARE_CREATED = EventDef(
    "share_created",
    "A learner made a public share card of a result or a streak.",
    Consent.ANALYTICS,
    (Prop("kind", Kind.CHOICE, ("result", "streak"), required=True), Prop("signed", Kind.BOOL)),
)
SHARE_VISITED = EventDef(
    "share_visited",
    "Someone opened a public share page (distinct id: the visitor's consent-cookie id).",
    Consent.ANALYTICS,
    (Prop("kind", Kind.CHOICE, ("result", "streak"), required=True),),
)

EVENTS: dict[str, EventDef] = {
    e.name: e
    for e in (
        PAGE_VIEWED,
        SIGNED_UP,
        ONBOARDING_STARTED,
        MIC_CHECK_PASSED,
        ONBOARDING_FINISHED,
        FIRST_ATTEMPT_SCORED,
        RETURNED,
        TRIAL_STARTED,
        SUBSCRIPTION_PAID,
        EXPERIMENT_EXPOSED,
        AD_CONVERSION,
        REFERRAL_SIGNED_UP,
        REFERRAL_REWARDED,
        SHARE_CREATED,
        SHARE_VISITED,
    )
}


def get(event: EventDef | str) -> EventDef:
    """The catalogued definition, or a plain-words error for anything not in the catalogue."""
    name = event.name if isinstance(event, EventDef) else event
    found = EVENTS.get(name) if isinstance(name, str) else None
    if found is None or (isinstance(event, EventDef) and found != event):
        raise ValidationError(
            f"{name!r} is not in the analytics event catalogue (sayzhong/analytics/catalog.py).",
            code="analytics_bad_event",
        )
    return found


def consent_for(event: str) -> Consent:
    """The category an event needs; an unknown name needs the strictest one (it is refused anyway)."""
    found = EVENTS.get(event)
    return found.consent if found else Consent.MARKETING
