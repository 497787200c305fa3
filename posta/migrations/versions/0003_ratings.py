"""posta_cases.rating: what the customer answered after a person handled the case.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from posta.schema import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("posta_cases") as batch:
        batch.add_column(sa.Column("rating", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("rated_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("posta_cases") as batch:
        batch.drop_column("rated_at")
        batch.drop_column("rating")
