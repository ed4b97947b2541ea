"""A unit of work: one session, committed explicitly, rolled back on error."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.ext.asyncio import AsyncSession

from empause.store.db import Database


class UnitOfWork:
    def __init__(self, db: Database):
        self._db = db
        self.session: AsyncSession

    async def __aenter__(self) -> UnitOfWork:
        self.session = self._db.sessions()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            await self.session.rollback()
        await self.session.close()

    async def commit(self) -> None:
        await self.session.commit()

    async def rollback(self) -> None:
        await self.session.rollback()
