"""posta_cases.judgment: was a person needed? Said by the person who handled the case.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

from posta.schema import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("posta_cases") as batch:
        batch.add_column(sa.Column("judgment", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("judged_topic", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("judged_by", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("judged_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("posta_cases") as batch:
        for column in ("judged_at", "judged_by", "judged_topic", "judgment"):
            batch.drop_column(column)
