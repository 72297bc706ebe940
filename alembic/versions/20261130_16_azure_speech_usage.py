"""Azure Speech daily usage, for the daily budget (issue 16).

Revision ID: 16a0c0ffee16
Revises: b9a6fee1ff24
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "16a0c0ffee16"
down_revision: str | None = "20261130_12"  # rechained at merge (after billing)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "azure_speech_usage",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("day"),
    )


def downgrade() -> None:
    op.drop_table("azure_speech_usage")
