"""The event catalogue carries no personal data: every definition is scanned (pure, no database)."""

from __future__ import annotations

import re

import pytest

from sayzhong.analytics import catalog
from sayzhong.analytics.catalog import Consent, EventDef, Kind, Prop
from sayzhong.errors import ValidationError

# Property names that would carry personal data or free text, whatever their declared kind.
PERSONAL = re.compile(
    r"e-?mail|mail|(^|_)name($|_)|first_?name|last_?name|full_?name|phone|address|street|ip($|_)|"
    r"message|comment|text|note|body|query|search|password|token|birth|user_agent",
    re.IGNORECASE,
)
STRUCTURED_KINDS = {Kind.CHOICE, Kind.SLUG, Kind.PATH, Kind.INT, Kind.BOOL}


def personal_data_problems(definitions: list[EventDef]) -> list[str]:
    problems = []
    for event in definitions:
        for prop in event.properties:
            if PERSONAL.search(prop.name):
                problems.append(f"{event.name}.{prop.name}: looks like personal data")
            if prop.kind not in STRUCTURED_KINDS:
                problems.append(f"{event.name}.{prop.name}: free text is not allowed")
            if prop.kind is Kind.CHOICE and not prop.choices:
                problems.append(f"{event.name}.{prop.name}: a choice needs its list")
    return problems


def test_no_catalogued_event_has_personal_or_free_text_properties() -> None:
    assert personal_data_problems(list(catalog.EVENTS.values())) == []


@pytest.mark.parametrize("name", ["email", "display_name", "name", "message", "ip", "first_name"])
def test_the_scan_catches_personal_fields(name: str) -> None:
    bad = EventDef("bad_event", "for the test", Consent.ANALYTICS, (Prop(name, Kind.SLUG),))
    assert personal_data_problems([bad]) != []


def test_the_scan_catches_a_free_text_kind() -> None:
    class FreeText(str):
        pass

    bad = EventDef("bad_event", "for the test", Consent.ANALYTICS, (Prop("reason", FreeText("text")),))  # type: ignore[arg-type]
    assert personal_data_problems([bad]) == ["bad_event.reason: free text is not allowed"]


def test_every_event_has_a_consent_category_and_a_snake_case_name() -> None:
    for name, event in catalog.EVENTS.items():
        assert name == event.name and re.match(r"^[a-z][a-z0-9_]{0,63}$", name)
        assert event.consent in (Consent.ANALYTICS, Consent.MARKETING)
        assert event.description


def test_the_funnel_and_experiment_events_are_catalogued() -> None:
    for name in (
        "page_viewed",
        "signed_up",
        "onboarding_finished",
        "first_attempt_scored",
        "returned",
        "trial_started",
        "subscription_paid",
        "experiment_exposed",
    ):
        assert name in catalog.EVENTS
    assert [p.name for p in catalog.EXPERIMENT_EXPOSED.properties] == ["key", "variant"]


def test_an_event_def_not_from_the_catalogue_is_refused() -> None:
    forged = EventDef("signed_up", "same name, other shape", Consent.ANALYTICS, (Prop("email", Kind.SLUG),))
    with pytest.raises(ValidationError):
        catalog.get(forged)
    assert catalog.get("signed_up") is catalog.SIGNED_UP


def test_properties_are_checked_and_unset_optional_ones_dropped() -> None:
    assert catalog.SIGNED_UP.validate({"method": "oidc", "campaign": None}) == {"method": "oidc"}
    assert catalog.RETURNED.validate({"day": 6}) == {"day": 6}
    with pytest.raises(ValidationError):
        catalog.RETURNED.validate({"day": -1})
