"""Per-learner tone tallies kept in step with the syllable results (issue 16: home page load).

Revision ID: 16b7a11e5c0d
Revises: c4f2a9e1b7d3
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "16b7a11e5c0d"
down_revision: str | None = "c4f2a9e1b7d3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BACKFILL = """
INSERT INTO practice_tone_tally (user_id, expected_tone, prev_expected_tone, verdict, prev_verdict, count)
SELECT user_id, expected_tone, COALESCE(prev_expected_tone, 0), verdict, COALESCE(prev_verdict, ''), COUNT(*)
FROM practice_syllable_result
WHERE expected_tone IN (1, 2, 3, 4)
GROUP BY user_id, expected_tone, COALESCE(prev_expected_tone, 0), verdict, COALESCE(prev_verdict, '')
"""
"""Tested against the live tallies: tests/integration/practice/test_tone_tallies.py."""


def upgrade() -> None:
    op.create_table(
        "practice_tone_tally",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("expected_tone", sa.Integer(), nullable=False),
        sa.Column("prev_expected_tone", sa.Integer(), nullable=False),
        sa.Column("verdict", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("prev_verdict", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint(
            "user_id",
            "expected_tone",
            "prev_expected_tone",
            "verdict",
            "prev_verdict",
            name="uq_practice_tone_tally_key",
        ),
    )
    # Existing history, counted once; from here on every stored take adds to it.
    op.execute(BACKFILL)


def downgrade() -> None:
    op.drop_table("practice_tone_tally")
