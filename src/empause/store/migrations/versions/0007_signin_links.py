"""emailed sign-in links for SocialHub organizations (hash of the token, single use, expiry)

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from empause.store.models import UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "signin_links",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("organization_id", sa.String(length=64), nullable=False),
        sa.Column("member_id", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index("ix_signin_links_email", "signin_links", ["email"])
    op.create_index("ix_signin_links_expires_at", "signin_links", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_signin_links_expires_at", table_name="signin_links")
    op.drop_index("ix_signin_links_email", table_name="signin_links")
    op.drop_table("signin_links")
