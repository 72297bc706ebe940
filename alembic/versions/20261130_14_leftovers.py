"""Leftovers of issues 12-14: the first-paid-invoice mark on billing customers (once-only
`ad_conversion`) and product-news campaign deliveries.

Revision ID: c7e4d1a90b36
Revises: b15e7a2c0d41
Create Date: 2026-11-30 09:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'c7e4d1a90b36'
down_revision: str | None = 'b15e7a2c0d41'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('billing_customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('converted_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('billing_customer', schema=None) as batch_op:
        batch_op.drop_column('converted_at')
