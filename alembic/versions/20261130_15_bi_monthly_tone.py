"""BI: monthly roll-ups of the daily tone rows, so the learning page reads whole months of a long range
from a few thousand rows instead of millions (issue 15). Filled from the existing daily rows here; the
aggregation job refreshes every month it touches from then on.

Revision ID: 3d9a61f0c2b7
Revises: a0f27fb048cc
Create Date: 2026-11-30 12:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = "3d9a61f0c2b7"
down_revision: str | None = "a0f27fb048cc"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLLUPS = {
    "bi_monthly_tone_bucket": ("cohort_week", "segment", "take_bucket", "tone"),
    "bi_monthly_tone_pair": ("cohort_week", "segment", "prev_tone", "tone", "speaker_profile"),
}


def upgrade() -> None:
    op.create_table(
        "bi_monthly_tone_bucket",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("cohort_week", sa.Date(), nullable=False),
        sa.Column("segment", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("take_bucket", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("tone", sa.Integer(), nullable=False),
        sa.Column("judged", sa.Integer(), nullable=False),
        sa.Column("correct", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("month", "cohort_week", "segment", "take_bucket", "tone"),
    )
    op.create_table(
        "bi_monthly_tone_pair",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("cohort_week", sa.Date(), nullable=False),
        sa.Column("segment", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("prev_tone", sa.Integer(), nullable=False),
        sa.Column("tone", sa.Integer(), nullable=False),
        sa.Column("speaker_profile", sa.Boolean(), nullable=False),
        sa.Column("judged", sa.Integer(), nullable=False),
        sa.Column("correct", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("month", "cohort_week", "segment", "prev_tone", "tone", "speaker_profile"),
    )
    # Roll up the days already aggregated (the job keeps the months current from now on).
    for statement in backfill(op.get_bind().dialect.name):
        op.execute(statement)


def backfill(dialect: str) -> list[str]:
    """INSERT … SELECT statements summing every `bi_daily_tone` row into its month."""
    month = "date_trunc('month', day)::date" if dialect == "postgresql" else "date(day, 'start of month')"
    statements = []
    for table, keys in ROLLUPS.items():
        columns = ", ".join(keys)
        # The table and column names are this module's constants.
        statements.append(
            f"INSERT INTO {table} (month, {columns}, judged, correct) "  # noqa: S608
            f"SELECT {month}, {columns}, SUM(judged), SUM(correct) FROM bi_daily_tone "
            f"GROUP BY {month}, {columns}"
        )
    return statements


def downgrade() -> None:
    op.drop_table("bi_monthly_tone_pair")
    op.drop_table("bi_monthly_tone_bucket")
