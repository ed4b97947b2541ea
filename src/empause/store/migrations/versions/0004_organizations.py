"""organizations are rows: connection, credentials, webhook secret and the lease of the
process that watches it (inbox, fast sweeps) per organization;
members, prescreening decisions and inbox events unique per organization

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import empause.store.models

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite keeps the single-column unique constraints of 0001 unnamed: batch mode names them
# by this convention so they can be dropped; PostgreSQL named them <table>_<column>_key.
_SQLITE_NAMES = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def _unique_name(table: str, column: str) -> str:
    if op.get_bind().dialect.name == "sqlite":
        return f"uq_{table}_{column}"
    return f"{table}_{column}_key"


def upgrade() -> None:
    with op.batch_alter_table("organizations") as batch_op:
        batch_op.add_column(sa.Column("base_url", sa.String(length=512), nullable=True))
        batch_op.add_column(sa.Column("credentials_enc", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("webhook_secret_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column(
                "created_at", empause.store.models.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(sa.Column("lease_owner", sa.String(length=128), nullable=True))
        batch_op.add_column(
            sa.Column(
                "lease_until", empause.store.models.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.create_unique_constraint(
            "uq_organizations_webhook_secret_hash", ["webhook_secret_hash"]
        )
    for table, column, columns in (
        ("users", "member_id", ["organization_id", "member_id"]),
        ("prescreening", "message_id", ["organization_id", "message_id"]),
    ):
        with op.batch_alter_table(table, naming_convention=_SQLITE_NAMES) as batch_op:
            batch_op.drop_constraint(_unique_name(table, column), type_="unique")
            batch_op.create_unique_constraint(f"uq_{table}_organization_{column}", columns)
    op.execute("UPDATE webhook_inbox SET organization_id = '' WHERE organization_id IS NULL")
    with op.batch_alter_table("webhook_inbox") as batch_op:
        batch_op.alter_column(
            "organization_id", existing_type=sa.String(length=64), nullable=False,
            server_default="",
        )  # fmt: skip
        batch_op.drop_constraint("uq_inbox_message_state_seq", type_="unique")
        batch_op.create_unique_constraint(
            "uq_inbox_org_message_state_seq", ["organization_id", "message_id", "state", "seq_no"]
        )


def downgrade() -> None:
    raise NotImplementedError("organizations cannot be merged back into one")
