"""The erasure port: how each feature takes part in deleting an account.

An erasure participant deletes or anonymises one feature's data for a user and returns how many
rows/files it removed. It must be idempotent (an interrupted erasure runs it again) and must not
commit: the erasure runner gives each participant its own unit of work and records the outcome.
Participants are listed in `sayzhong.privacy.participants.ERASURE_PARTICIPANTS`; a new feature
(payments, support) adds one line there — e.g. "billing", "sayzhong.billing.privacy:erase_user".
Processors outside SayZhong (PostHog, Stripe) are told through their adapters inside their
feature's participant, which raises on failure so the step is retried on the next run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlmodel import Session


@dataclass(frozen=True, slots=True)
class ErasureSubject:
    user_id: int
    email: str
    pseudonym: str
    """What the audit log and retained records say instead of the user id and e-mail."""


class ErasureParticipant(Protocol):
    def __call__(self, *, session: Session, subject: ErasureSubject) -> int: ...
