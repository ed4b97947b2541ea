"""Webhook delivery: com.hootsuite.messages.event.v1 and ping events, in the background.

Each callback URL has its own ordered queue, `seq_no` counter and worker task, so a slow or
failing receiver never blocks the API nor other receivers. Unsigned, as upstream. Only
loopback URLs are actually called (the sandbox never leaves the machine); others are
counted as skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

MESSAGE_EVENT = "com.hootsuite.messages.event.v1"
PING_EVENT = "com.hootsuite.ping.event.v1"
RETRY_DELAYS = (0.1, 0.3, 1.0, 2.0, 4.0)
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass
class Receiver:
    url: str
    seq_no: int = 0
    queue: deque = field(default_factory=deque)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task | None = None
    delivered: int = 0
    failed: int = 0
    skipped: int = 0
    attempts: int = 0


class WebhookDispatcher:
    """Queues events per URL and delivers them with retries."""

    def __init__(self) -> None:
        self.app_urls: list[str] = []
        self.receivers: dict[str, Receiver] = {}
        self._client: httpx.AsyncClient | None = None

    def reset(self) -> None:
        for receiver in self.receivers.values():
            if receiver.task:
                receiver.task.cancel()
        self.receivers = {}
        self.app_urls = []

    async def close(self) -> None:
        self.reset()
        if self._client:
            await self._client.aclose()
            self._client = None

    def register(self, url: str) -> None:
        """Register an app callback URL and ping it."""
        if url not in self.app_urls:
            self.app_urls.append(url)
        self._enqueue(url, {"type": PING_EVENT, "data": {}}, numbered=False)

    def message_event(
        self, state: str, organization_id: str | None, message_id: str, timestamp: str,
        extra_urls: list[str] | None = None,
    ) -> None:
        data = {
            "state": state,
            "organization": {"id": organization_id},
            "message": {"id": message_id},
            "timestamp": timestamp,
        }
        urls = list(self.app_urls)
        for url in extra_urls or ():
            if isinstance(url, str) and url not in urls:
                urls.append(url)
        for url in urls:
            self._enqueue(url, {"type": MESSAGE_EVENT, "data": data}, numbered=True)

    def _enqueue(self, url: str, event: dict, numbered: bool) -> None:
        receiver = self.receivers.get(url)
        if receiver is None:
            receiver = self.receivers[url] = Receiver(url)
        if numbered:
            receiver.seq_no += 1
            event = {"seq_no": str(receiver.seq_no), **event}
        host = urlsplit(url).hostname or ""
        if host not in LOOPBACK:
            receiver.skipped += 1
            return
        receiver.queue.append([event])
        receiver.wake.set()
        if receiver.task is None or receiver.task.done():
            try:
                receiver.task = asyncio.get_running_loop().create_task(self._worker(receiver))
            except RuntimeError:  # no loop yet: delivered when the next event starts one
                receiver.task = None

    async def _worker(self, receiver: Receiver) -> None:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=5.0)
        client = self._client
        while True:
            if not receiver.queue:
                receiver.wake.clear()
                await receiver.wake.wait()
                continue
            body = receiver.queue[0]
            for delay in (0.0, *RETRY_DELAYS):
                if delay:
                    await asyncio.sleep(delay)
                receiver.attempts += 1
                with contextlib.suppress(httpx.HTTPError):
                    response = await client.post(receiver.url, json=body)
                    if 200 <= response.status_code < 300:
                        receiver.delivered += 1
                        break
            else:
                receiver.failed += 1
            receiver.queue.popleft()

    def describe(self) -> dict:
        return {
            "app_urls": list(self.app_urls),
            "receivers": {
                url: {
                    "seq_no": r.seq_no,
                    "pending": len(r.queue),
                    "delivered": r.delivered,
                    "failed": r.failed,
                    "skipped": r.skipped,
                    "attempts": r.attempts,
                }
                for url, r in self.receivers.items()
            },
        }
