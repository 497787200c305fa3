"""posta_media: the media of each conversation, both ways.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from posta.schema import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "posta_media",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("mime_type", sa.String(length=127), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=True),
        sa.Column("caption", sa.Text(), nullable=True),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("source_id", sa.String(length=255), nullable=True),
        sa.Column("uploaded_id", sa.String(length=255), nullable=True),
        sa.Column("uploaded_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source_id"),
    )
    op.create_index(op.f("ix_posta_media_conversation_id"), "posta_media", ["conversation_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_posta_media_conversation_id"), table_name="posta_media")
    op.drop_table("posta_media")
