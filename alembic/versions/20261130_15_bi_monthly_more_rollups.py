"""BI: monthly roll-ups of the daily content, tone-start and mastery rows (issue 15), beside the two
tone roll-ups of 3d9a61f0c2b7, so every table the learning page sums over a long range has whole
months. Filled from the existing daily rows here; the aggregation job refreshes every month it touches.

A development build of 3d9a61f0c2b7 briefly created these tables itself; a database made from it
already has them (filled), so each is created and filled only when it is missing.

Revision ID: 9de560a0bc4f
Revises: 3d9a61f0c2b7
Create Date: 2026-11-30 17:00:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = "9de560a0bc4f"
down_revision: str | None = "3d9a61f0c2b7"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLLUPS = {
    # monthly table: (daily table, kept keys, summed values)
    "bi_monthly_content": (
        "bi_daily_content",
        ("item_id", "segment"),
        ("takes", "failed_takes", "learners", "gave_up", "repeated", "improvement_sum"),
    ),
    "bi_monthly_tone_start": ("bi_daily_tone_start", ("cohort_week", "segment", "tone"), ("learners",)),
    "bi_monthly_mastery": (
        "bi_daily_mastery",
        ("cohort_week", "segment", "tone", "days", "takes"),
        ("learners",),
    ),
}


def _columns(table: str) -> list[sa.Column[Any] | sa.PrimaryKeyConstraint]:
    if table == "bi_monthly_content":
        return [
            sa.Column("takes", sa.Integer(), nullable=False),
            sa.Column("failed_takes", sa.Integer(), nullable=False),
            sa.Column("learners", sa.Integer(), nullable=False),
            sa.Column("gave_up", sa.Integer(), nullable=False),
            sa.Column("repeated", sa.Integer(), nullable=False),
            sa.Column("improvement_sum", sa.Float(), nullable=False),
            sa.Column("month", sa.Date(), nullable=False),
            sa.Column("item_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
            sa.Column("segment", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
            sa.PrimaryKeyConstraint("month", "item_id", "segment"),
        ]
    keys = [
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("cohort_week", sa.Date(), nullable=False),
        sa.Column("segment", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("tone", sa.Integer(), nullable=False),
    ]
    if table == "bi_monthly_tone_start":
        return [
            *keys,
            sa.Column("learners", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("month", "cohort_week", "segment", "tone"),
        ]
    return [  # bi_monthly_mastery
        *keys,
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("takes", sa.Integer(), nullable=False),
        sa.Column("learners", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("month", "cohort_week", "segment", "tone", "days", "takes"),
    ]


def upgrade() -> None:
    bind = op.get_bind()
    missing = [t for t in ROLLUPS if not sa.inspect(bind).has_table(t)]
    for table in missing:
        op.create_table(table, *_columns(table))
    # Roll up the days already aggregated (the job keeps the months current from now on).
    for statement in backfill(bind.dialect.name, missing):
        op.execute(statement)


def backfill(dialect: str, tables: Sequence[str] = tuple(ROLLUPS)) -> list[str]:
    """INSERT … SELECT statements summing every daily row of `tables` into its month."""
    month = "date_trunc('month', day)::date" if dialect == "postgresql" else "date(day, 'start of month')"
    statements = []
    for table in tables:
        daily, keys, values = ROLLUPS[table]
        columns = ", ".join(keys)
        sums = ", ".join(f"SUM({v})" for v in values)
        # The table and column names are this module's constants.
        statements.append(
            f"INSERT INTO {table} (month, {columns}, {', '.join(values)}) "  # noqa: S608
            f"SELECT {month}, {columns}, {sums} FROM {daily} GROUP BY {month}, {columns}"
        )
    return statements


def downgrade() -> None:
    op.drop_table("bi_monthly_mastery")
    op.drop_table("bi_monthly_tone_start")
    op.drop_table("bi_monthly_content")
