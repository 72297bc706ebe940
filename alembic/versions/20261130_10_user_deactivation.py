"""support desk: accounts can be deactivated by staff (issue 10)

Revision ID: 10a1b2c3d4e5
Revises: 5b1e11a0c0de
Create Date: 2026-11-30 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "10a1b2c3d4e5"
down_revision: str | None = "16a0c0ffee16"  # rechained after merging main (issues 9 and 11)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("deactivated_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("deactivated_at")
