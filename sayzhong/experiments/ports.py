"""The experiments port: who decides which variant a unit gets.

The default is local hash bucketing (`experiments/offline.py`); PostHog feature flags with local
evaluation (`integrations/posthog_flags.py`) can serve the variants instead when configured.
`sayzhong.wiring.get_variant_source` chooses. A source may answer None (flag unknown, not yet
loaded, or a variant the experiment does not define): the service then falls back to local bucketing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol


class VariantSource(Protocol):
    name: str

    def variant(self, *, key: str, unit_id: str, variants: Sequence[tuple[str, int]]) -> str | None:
        """The variant key for `unit_id` in experiment `key` given (variant, weight) pairs, or None."""
        ...
