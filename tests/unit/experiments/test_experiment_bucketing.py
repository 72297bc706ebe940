"""Local bucketing and definition rules (pure: no database)."""

from __future__ import annotations

import hashlib
from collections import Counter

import pytest

from sayzhong.errors import ValidationError
from sayzhong.experiments import stats
from sayzhong.experiments.offline import HashBucketing, bucket_point, pick
from sayzhong.experiments.service import ExperimentDraft, VariantSpec, parse_variants, validate_draft


def test_bucket_point_is_the_sha256_of_key_and_unit() -> None:
    digest = hashlib.sha256(b"landing_headline:visitor-0000000001").digest()
    expected = (int.from_bytes(digest[:8], "big") >> 4) / 2**60
    assert bucket_point("landing_headline", "visitor-0000000001") == expected
    assert 0.0 <= expected < 1.0


def test_the_same_unit_always_gets_the_same_variant_and_experiments_are_independent() -> None:
    source = HashBucketing()
    variants = [("control", 50), ("fix_tones", 50)]
    units = [f"visitor-{i:012d}" for i in range(4000)]
    first = [source.variant(key="landing_headline", unit_id=u, variants=variants) for u in units]
    again = [source.variant(key="landing_headline", unit_id=u, variants=variants) for u in units]
    other = [source.variant(key="onboarding_length", unit_id=u, variants=variants) for u in units]
    assert first == again
    # Independent experiments: about half the units land in the same arm in both (not all).
    same = sum(a == b for a, b in zip(first, other, strict=True)) / len(units)
    assert 0.45 < same < 0.55


@pytest.mark.parametrize("weights", [(50, 50), (90, 10), (20, 30, 50)])
def test_bucketing_follows_the_weights(weights: tuple[int, ...]) -> None:
    variants = [(f"v{i}", w) for i, w in enumerate(weights)]
    counts = Counter(pick(bucket_point("exp_key", f"unit-{i}"), variants) for i in range(30_000))
    observed = [counts[name] for name, _ in variants]
    assert sum(observed) == 30_000
    # A fair hash passes the sample-ratio check that the results page runs.
    assert not stats.sample_ratio_mismatch(observed, list(weights)).alarm
    for (_, weight), seen in zip(variants, observed, strict=True):
        assert seen / 30_000 == pytest.approx(weight / sum(weights), abs=0.015)


def test_pick_edges() -> None:
    variants = [("a", 1), ("b", 3)]
    assert pick(0.0, variants) == "a"
    assert pick(0.2499, variants) == "a"
    assert pick(0.25, variants) == "b"
    assert pick(0.999999, variants) == "b"
    with pytest.raises(ValueError):
        pick(0.5, [("a", 0)])


def _draft(**changes: object) -> ExperimentDraft:
    base: dict[str, object] = {
        "key": "landing_headline",
        "name": "Landing headline",
        "variants": (VariantSpec("control", 50), VariantSpec("fix_tones", 50)),
        "audience": "new_visitors",
        "primary_metric": "signed_up",
        "guardrail_metrics": ("takes_7d", "signed_up"),
        "minimum_sample": 500,
    }
    base.update(changes)
    return ExperimentDraft(**base)  # type: ignore[arg-type]


def test_a_valid_definition_is_cleaned() -> None:
    clean = validate_draft(_draft(key=" Landing_Headline ", name="  Landing headline "))
    assert clean.key == "landing_headline"
    assert clean.name == "Landing headline"
    assert clean.guardrail_metrics == ("takes_7d",)  # the primary metric is not its own guardrail


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"key": "Bad Key!"}, "experiment_bad_key"),
        ({"name": " "}, "experiment_bad_name"),
        ({"variants": (VariantSpec("control", 50),)}, "experiment_bad_variants"),
        (
            {"variants": (VariantSpec("control", 50), VariantSpec("control", 50))},
            "experiment_duplicate_variant",
        ),
        ({"variants": (VariantSpec("control", 0), VariantSpec("fix_tones", 50))}, "experiment_bad_weight"),
        ({"variants": (VariantSpec("control", 50), VariantSpec("shout", 50))}, "experiment_unknown_variant"),
        (
            {"variants": (VariantSpec("fix_tones", 50), VariantSpec("control", 50))},
            "experiment_control_first",
        ),
        ({"audience": "martians"}, "experiment_bad_audience"),
        ({"device": "fridge"}, "experiment_bad_device"),
        ({"primary_metric": "revenue_per_pixel"}, "experiment_bad_metric"),
        ({"guardrail_metrics": ("nope",)}, "experiment_bad_metric"),
        ({"minimum_sample": 3}, "experiment_bad_sample"),
        ({"hypothesis": "x" * 1001}, "experiment_bad_hypothesis"),
    ],
)
def test_invalid_definitions_are_refused_in_plain_words(changes: dict[str, object], code: str) -> None:
    with pytest.raises(ValidationError) as err:
        validate_draft(_draft(**changes))
    assert err.value.code == code
    assert err.value.user_message and "Traceback" not in err.value.user_message


def test_variants_are_typed_one_per_line() -> None:
    assert parse_variants("control 50\nfix_tones: 50\n") == (
        VariantSpec("control", 50),
        VariantSpec("fix_tones", 50),
    )
    assert parse_variants("a 1, b 2") == (VariantSpec("a", 1), VariantSpec("b", 2))
    with pytest.raises(ValidationError) as err:
        parse_variants("control fifty")
    assert err.value.code == "experiment_bad_variant"
