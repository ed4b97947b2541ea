"""timed pauses: when a pause ends (or starts) by itself, its restore policy, who set it

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from empause.store.models import UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("organizations") as batch:
        batch.add_column(sa.Column("pause_ends_at", UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("pause_end_restore", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("pause_end_by", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("pause_starts_at", UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("pause_start_request", sa.JSON(), nullable=True))
    op.create_index("ix_organizations_pause_ends_at", "organizations", ["pause_ends_at"])
    op.create_index("ix_organizations_pause_starts_at", "organizations", ["pause_starts_at"])


def downgrade() -> None:
    op.drop_index("ix_organizations_pause_starts_at", table_name="organizations")
    op.drop_index("ix_organizations_pause_ends_at", table_name="organizations")
    with op.batch_alter_table("organizations") as batch:
        for name in ("pause_start_request", "pause_starts_at", "pause_end_by",
                     "pause_end_restore", "pause_ends_at"):  # fmt: skip
            batch.drop_column(name)
