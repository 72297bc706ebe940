"""BI filters and time to mastery (issue 15): segment on the tone, content and revenue aggregates,
per-learner time to mastery aggregated by day.

bi_daily_tone and bi_daily_content get a `segment` key column: their tables are rebuilt (SQLite cannot
change a primary key in place) and the existing rows are kept with segment "all" (computed before the
split; `python -m sayzhong bi aggregate --from … --to …` splits them). New: bi_daily_segment_revenue,
bi_daily_tone_start, bi_daily_mastery.

Revision ID: 15c3f7a2d9e1
Revises: e4b7c15a9f02
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel

from alembic import op

revision: str = "15c3f7a2d9e1"
down_revision: str | None = "e4b7c15a9f02"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TONE_KEY = ("day", "cohort_week", "tone", "prev_tone", "speaker_profile", "take_bucket")
TONE_VALUES = ("judged", "correct")
CONTENT_KEY = ("day", "item_id")
CONTENT_VALUES = ("takes", "failed_takes", "learners", "gave_up", "repeated", "improvement_sum")


def _segment() -> sa.Column:
    return sa.Column("segment", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False)


def _tone_columns() -> list[sa.Column]:
    return [
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("cohort_week", sa.Date(), nullable=False),
        sa.Column("tone", sa.Integer(), nullable=False),
        sa.Column("prev_tone", sa.Integer(), nullable=False),
        sa.Column("speaker_profile", sa.Boolean(), nullable=False),
        sa.Column("take_bucket", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("judged", sa.Integer(), nullable=False),
        sa.Column("correct", sa.Integer(), nullable=False),
    ]


def _content_columns() -> list[sa.Column]:
    return [
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("item_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("takes", sa.Integer(), nullable=False),
        sa.Column("failed_takes", sa.Integer(), nullable=False),
        sa.Column("learners", sa.Integer(), nullable=False),
        sa.Column("gave_up", sa.Integer(), nullable=False),
        sa.Column("repeated", sa.Integer(), nullable=False),
        sa.Column("improvement_sum", sa.Float(), nullable=False),
    ]


def _rebuild(
    table: str, columns: list[sa.Column], key: tuple[str, ...], values: tuple[str, ...], *, split: bool
) -> None:
    """Recreate `table` with (split) or without the segment key, copying its rows."""
    old = f"{table}_before"
    op.rename_table(table, old)
    source = sa.table(old, *(sa.column(n) for n in (*key, *values)))
    if split:
        op.create_table(
            table,
            *columns,
            _segment(),
            sa.PrimaryKeyConstraint(*key[:2], "segment", *key[2:], name=f"pk_{table}_segment"),
        )
        target = sa.table(table, *(sa.column(n) for n in (*key, *values, "segment")))
        rows = sa.select(*source.c, sa.literal("all"))
    else:
        op.create_table(table, *columns, sa.PrimaryKeyConstraint(*key, name=f"pk_{table}"))
        target = sa.table(table, *(sa.column(n) for n in (*key, *values)))
        group = [source.c[k] for k in key]
        rows = sa.select(*group, *(sa.func.sum(source.c[v]) for v in values)).group_by(*group)
    op.execute(sa.insert(target).from_select(list(target.c), rows))
    op.drop_table(old)


def _revenue_columns() -> list[sa.Column]:
    names = (
        "mrr",
        "paying",
        "trialing",
        "new_mrr",
        "expansion_mrr",
        "contraction_mrr",
        "churned_mrr",
        "reactivation_mrr",
        "new_paying",
        "churned_paying",
        "reactivated_paying",
        "trials_started",
        "trials_converted",
        "invoices_paid",
        "invoiced_amount",
        "refunded_amount",
        "payment_failures",
    )
    return [
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        *(sa.Column(n, sa.Integer(), nullable=False) for n in names),
    ]


def upgrade() -> None:
    _rebuild("bi_daily_tone", _tone_columns(), TONE_KEY, TONE_VALUES, split=True)
    _rebuild("bi_daily_content", _content_columns(), CONTENT_KEY, CONTENT_VALUES, split=True)
    op.create_table(
        "bi_daily_segment_revenue",
        *_revenue_columns(),
        sa.Column("day", sa.Date(), nullable=False),
        _segment(),
        sa.PrimaryKeyConstraint("day", "segment"),
    )
    op.create_table(
        "bi_daily_tone_start",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("cohort_week", sa.Date(), nullable=False),
        _segment(),
        sa.Column("tone", sa.Integer(), nullable=False),
        sa.Column("learners", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "cohort_week", "segment", "tone"),
    )
    op.create_table(
        "bi_daily_mastery",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("cohort_week", sa.Date(), nullable=False),
        _segment(),
        sa.Column("tone", sa.Integer(), nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("takes", sa.Integer(), nullable=False),
        sa.Column("learners", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("day", "cohort_week", "segment", "tone", "days", "takes"),
    )


def downgrade() -> None:
    op.drop_table("bi_daily_mastery")
    op.drop_table("bi_daily_tone_start")
    op.drop_table("bi_daily_segment_revenue")
    _rebuild("bi_daily_content", _content_columns(), CONTENT_KEY, CONTENT_VALUES, split=False)
    _rebuild("bi_daily_tone", _tone_columns(), TONE_KEY, TONE_VALUES, split=False)
