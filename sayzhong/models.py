"""Imports every feature's table models so SQLModel.metadata (and Alembic) sees all tables.

Add a line here when a feature gains a `models.py`.
"""

from __future__ import annotations

import importlib

FEATURE_MODEL_MODULES = (
    "sayzhong.audit",
    "sayzhong.accounts.models",
    "sayzhong.notifications.models",
    "sayzhong.practice.models",
    "sayzhong.analytics.models",
    "sayzhong.api.models",
    "sayzhong.support.models",
    # issue 11: legal, privacy, job runs
    "sayzhong.legal.models",
    "sayzhong.privacy.models",
    "sayzhong.ops.models",
    "sayzhong.billing.models",
    "sayzhong.pronunciation.budget",
    "sayzhong.bi.models",
    # issue 14: referrals and share cards
    "sayzhong.growth.models",
    "sayzhong.experiments.models",  # issue 14: A/B experiments
)


def load_all_models() -> None:
    for name in FEATURE_MODEL_MODULES:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
