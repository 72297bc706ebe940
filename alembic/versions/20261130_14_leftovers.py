"""Leftovers of issues 12-14: the first-paid-invoice mark on billing customers (once-only
`ad_conversion`) and product-news campaign deliveries.

Revision ID: c7e4d1a90b36
Revises: b15e7a2c0d41
Create Date: 2026-11-30 09:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = 'c7e4d1a90b36'
down_revision: str | None = 'b15e7a2c0d41'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('product_news_delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('campaign', 'user_id', name='uq_product_news_delivery_campaign_user')
    )
    with op.batch_alter_table('product_news_delivery', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_product_news_delivery_campaign'), ['campaign'], unique=False)
        batch_op.create_index(batch_op.f('ix_product_news_delivery_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('billing_customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('converted_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('billing_customer', schema=None) as batch_op:
        batch_op.drop_column('converted_at')

    with op.batch_alter_table('product_news_delivery', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_product_news_delivery_user_id'))
        batch_op.drop_index(batch_op.f('ix_product_news_delivery_campaign'))

    op.drop_table('product_news_delivery')
