"""Who signed in through the stream, asked of Hootsuite with the app's own credentials, and
which of their organizations this installation protects.

The SSO token says only "member `i`, at `ts`". The member's name, email, timezone and
organizations come from the REST API on a member_app token (the member has installed the
app, or Hootsuite would not show them its stream); `hsp.getMemberInfo` is never consulted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from empause.platforms.hootsuite import auth
from empause.platforms.hootsuite.client import HootsuiteClient
from empause.platforms.port import Ambiguous, AuthError, PlatformError, Transient
from empause.store.models import Organization
from empause.web.errors import Forbidden, Unavailable


@dataclass(frozen=True, slots=True)
class StreamMember:
    member_id: str
    email: str
    full_name: str
    timezone: str
    organizations: dict[str, str]  # id -> name, as Hootsuite lists them

    def profile(self, emergency: bool) -> dict[str, Any]:
        """What a session row remembers (identity; `emergency` only picks what is shown)."""
        return {
            "member_id": self.member_id,
            "email": self.email,
            "full_name": self.full_name,
            "timezone": self.timezone,
            "emergency": emergency,
        }


class NotInstalled(Forbidden):
    title = "Emergency Pause is not installed for your account"


async def resolve_member(settings: Any, http: Any, member_id: str) -> StreamMember:
    """The member and their organizations, from Hootsuite (a member_app token)."""
    try:
        tokens = await auth.member_app_token(
            http, settings.hootsuite_base_url, settings.hootsuite_client_id,
            settings.hootsuite_client_secret, member_id,
        )  # fmt: skip

        async def provider(refused: str | None = None) -> str:
            if refused:
                raise AuthError("Hootsuite refused the member token it just granted")
            return tokens.access_token

        client = HootsuiteClient(settings.hootsuite_base_url, provider, http=http)
        me = await client.me()
        organizations = await client.me_organizations()
    except (Transient, Ambiguous) as exc:
        raise Unavailable(
            f"Hootsuite did not answer in time ({exc}). Refresh the stream in a moment."
        ) from exc
    except (AuthError, PlatformError) as exc:
        raise NotInstalled(
            f"Hootsuite would not let Emergency Pause act for your account ({exc}). "
            "Install the app from Hootsuite's App Directory, then open the stream again."
        ) from exc
    if str(me.get("id")) != member_id:
        raise Forbidden("Hootsuite answered for another member. Open the stream again.")
    return StreamMember(
        member_id=member_id,
        email=str(me.get("email") or ""),
        full_name=str(me.get("fullName") or ""),
        timezone=str(me.get("timezone") or "UTC"),
        organizations={
            str(o.get("id")): str(o.get("name") or "") for o in organizations if o.get("id")
        },
    )


async def protected_organizations(
    session: AsyncSession, member_org_ids: Iterable[str]
) -> list[Organization]:
    """The member's organizations that this installation protects (rows of ours)."""
    ids = sorted({str(i) for i in member_org_ids})
    if not ids:
        return []
    rows = await session.scalars(
        select(Organization).where(Organization.id.in_(ids)).order_by(Organization.id)
    )
    return list(rows)
