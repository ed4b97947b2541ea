"""one shared request budget per upstream account (platforms.budget)

UNLOGGED on PostgreSQL: hundreds of updates a second need no WAL, and a budget lost in a
crash only means the next requests are paced from scratch.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "rate_budgets",
        sa.Column("account", sa.String(length=512), nullable=False),
        sa.Column("tat", sa.Float(), nullable=False),
        sa.Column(
            "recent",
            sa.JSON().with_variant(postgresql.ARRAY(sa.Float()), "postgresql"),
            nullable=False,
        ),
        sa.Column("penalties", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("account"),
        prefixes=["UNLOGGED"] if postgres else [],
        # Room on each page for the next version of a row: updates stay HOT.
        postgresql_with={"fillfactor": 50},
    )


def downgrade() -> None:
    op.drop_table("rate_budgets")
