"""The schema. Alembic migrations (store/migrations) are the only way it changes.

Times are stored as UTC and always come back timezone-aware, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out (SQLite keeps no timezone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _now() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON}


class Organization(Base):
    """An organization we protect, and its pause state (the banner everyone sees)."""

    __tablename__ = "organizations"
    __table_args__ = (
        UniqueConstraint("webhook_secret_hash", name="uq_organizations_webhook_secret_hash"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # platform's organization id
    platform: Mapped[str] = mapped_column(String(32), default="hootsuite")
    name: Mapped[str] = mapped_column(String(255), default="")
    emergency_team_id: Mapped[str] = mapped_column(String(64))
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    pause_reason: Mapped[str | None] = mapped_column(Text)
    paused_by: Mapped[str | None] = mapped_column(String(255))
    paused_since: Mapped[datetime | None]
    pause_strategy: Mapped[str | None] = mapped_column(String(16))
    pause_horizon_s: Mapped[int | None] = mapped_column(Integer)
    pause_shift_s: Mapped[int | None] = mapped_column(Integer)
    # A timed pause: when it ends by itself, with which restore policy, set by whom.
    pause_ends_at: Mapped[datetime | None] = mapped_column(index=True)
    pause_end_restore: Mapped[str | None] = mapped_column(String(16))
    pause_end_by: Mapped[str | None] = mapped_column(String(255))
    # A scheduled pause (`--at`): when it starts by itself, and what was asked.
    pause_starts_at: Mapped[datetime | None] = mapped_column(index=True)
    pause_start_request: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # How to reach it: None = the installation's defaults (EMPAUSE_HOOTSUITE_* for Hootsuite);
    # credentials as JSON encrypted with EMPAUSE_SECRET_KEY (e.g. SocialHub's access token).
    base_url: Mapped[str | None] = mapped_column(String(512))
    credentials_enc: Mapped[str | None] = mapped_column(Text)
    # SHA-256 of the secret path segment of its webhook URL (None: EMPAUSE_WEBHOOK_SECRET's).
    webhook_secret_hash: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime | None] = mapped_column(default=_now)
    # The process that watches it (webhook inbox, fast sweeps) until `lease_until`.
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=_now, onupdate=_now)


class User(Base):
    """An emergency-team member who signed in; tokens encrypted with EMPAUSE_SECRET_KEY."""

    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("organization_id", "member_id", name="uq_users_organization_member_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"))
    member_id: Mapped[str] = mapped_column(String(64))
    email: Mapped[str] = mapped_column(String(255), default="")
    full_name: Mapped[str] = mapped_column(String(255), default="")
    company_name: Mapped[str] = mapped_column(String(255), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    access_token_enc: Mapped[str | None] = mapped_column(Text)
    refresh_token_enc: Mapped[str | None] = mapped_column(Text)
    token_expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=_now)
    last_login_at: Mapped[datetime | None]


class Operation(Base):
    """One press of pause or resume (or one enforcement sweep), resumable from its journal."""

    __tablename__ = "operations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # OperationKind
    status: Mapped[str] = mapped_column(String(16), default="running")  # OperationStatus
    strategy: Mapped[str | None] = mapped_column(String(16))
    restore: Mapped[str | None] = mapped_column(String(16))
    horizon_s: Mapped[int | None] = mapped_column(Integer)
    shift_s: Mapped[int | None] = mapped_column(Integer)
    requested_by: Mapped[str] = mapped_column(String(255), default="")
    reason: Mapped[str | None] = mapped_column(Text)
    window_start: Mapped[datetime | None]
    window_end: Mapped[datetime | None]
    listed: Mapped[bool] = mapped_column(Boolean, default=False)  # every page journaled
    in_scope: Mapped[int] = mapped_column(Integer, default=0)
    api_calls: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(default=_now)
    safe_at: Mapped[datetime | None]  # time to safety reached: nothing in scope can publish
    finished_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)


class JournalEntry(Base):
    """The durable record of one message's move: the source of truth for recovery."""

    __tablename__ = "journal"
    __table_args__ = (
        UniqueConstraint("operation_id", "message_id", name="uq_journal_operation_message"),
        Index("ix_journal_operation_step", "operation_id", "step"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    operation_id: Mapped[int] = mapped_column(ForeignKey("operations.id"))
    organization_id: Mapped[str] = mapped_column(String(64), index=True)
    message_id: Mapped[str] = mapped_column(String(64))
    profile_id: Mapped[str] = mapped_column(String(64), default="")
    author_id: Mapped[str | None] = mapped_column(String(64))
    text_excerpt: Mapped[str] = mapped_column(String(280), default="")
    original_time: Mapped[datetime]
    new_time: Mapped[datetime | None]
    new_id: Mapped[str | None] = mapped_column(String(64), index=True)
    step: Mapped[str] = mapped_column(String(16), default="planned")  # Step
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    failures: Mapped[int] = mapped_column(Integer, default=0)  # times it ended FAILED
    last_error: Mapped[str | None] = mapped_column(Text)
    original_json: Mapped[dict[str, Any]] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=_now, onupdate=_now)


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    organization_id: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(default=_now, index=True)
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class WebSession(Base):
    """A signed-in member's dashboard session. The cookie carries only a random token; its
    SHA-256 is kept here, so signing out (or `empause sessions revoke`) ends every copy."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    member_id: Mapped[str] = mapped_column(String(64), index=True)
    email: Mapped[str] = mapped_column(String(255), default="", index=True)
    full_name: Mapped[str] = mapped_column(String(255), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    emergency: Mapped[bool] = mapped_column(Boolean, default=False)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=_now)
    last_seen_at: Mapped[datetime] = mapped_column(default=_now)
    revoked_at: Mapped[datetime | None]


class ApiKey(Base):
    """Keys for automation (e.g. an alerting system pressing pause); only a hash is kept."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    organization_id: Mapped[str] = mapped_column(ForeignKey("organizations.id"))
    name: Mapped[str] = mapped_column(String(255))
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    key_hash: Mapped[str] = mapped_column(String(128), unique=True)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=_now)
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class InboxEvent(Base):
    """A webhook event, stored before it is acknowledged; a worker decides on it later."""

    __tablename__ = "webhook_inbox"
    __table_args__ = (
        UniqueConstraint(
            "organization_id", "message_id", "state", "seq_no", name="uq_inbox_org_message_state_seq"
        ),
        Index("ix_inbox_status", "status", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    received_at: Mapped[datetime] = mapped_column(default=_now)
    event_type: Mapped[str] = mapped_column(String(64))
    organization_id: Mapped[str] = mapped_column(String(64), server_default="")
    message_id: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(32))
    seq_no: Mapped[str] = mapped_column(String(32), default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending/done/failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    processed_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)


class Prescreening(Base):
    """A decision on a message awaiting approval (approved / held / rejected / released)."""

    __tablename__ = "prescreening"
    __table_args__ = (
        Index("ix_prescreening_org_decision", "organization_id", "decision"),
        UniqueConstraint(
            "organization_id", "message_id", name="uq_prescreening_organization_message_id"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    organization_id: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str] = mapped_column(String(64))
    author_id: Mapped[str | None] = mapped_column(String(64))
    decision: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    scheduled_send_time: Mapped[datetime | None]
    sequence_number: Mapped[int | None] = mapped_column(Integer)
    message_json: Mapped[dict[str, Any]] = mapped_column(JSON)
    decided_at: Mapped[datetime] = mapped_column(default=_now)


class RateBudget(Base):
    """One upstream account's shared request budget (platforms.budget): the theoretical
    arrival time of its next request and its last slots, in seconds on the database's clock.
    Only PostgreSQL uses it (UNLOGGED there: after a crash every budget simply starts afresh).
    """

    __tablename__ = "rate_budgets"

    account: Mapped[str] = mapped_column(String(512), primary_key=True)
    tat: Mapped[float] = mapped_column(Float)
    recent: Mapped[list[float]] = mapped_column(
        JSON().with_variant(postgresql.ARRAY(Float), "postgresql")
    )
    penalties: Mapped[int] = mapped_column(Integer, default=0)


class UsedSsoToken(Base):
    """An app-stream single sign-on token already accepted (its SHA-256), kept until its
    timestamp leaves the allowed skew: a second use is refused by any process sharing the
    database (the primary key makes the insert the check)."""

    __tablename__ = "sso_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_id: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(index=True)


class SigninLink(Base):
    """An emailed sign-in link (SocialHub organizations): only the SHA-256 of its random
    token is kept; it works once (`used_at`) and until `expires_at`. Rows also count the
    links sent to an address recently (the per-address rate limit)."""

    __tablename__ = "signin_links"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    organization_id: Mapped[str] = mapped_column(String(64))
    member_id: Mapped[str] = mapped_column(String(64))
    email: Mapped[str] = mapped_column(String(255), index=True)
    created_at: Mapped[datetime] = mapped_column(default=_now)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    used_at: Mapped[datetime | None]
