"""A real HTTP webhook receiver for the tests (aiohttp), verifying every request with ``standardwebhooks``.

Each endpoint (``/hook/<name>``) answers by a script: a list of ``Reply`` used in turn (the last one
repeats). Every request is recorded with its headers, body, arrival time and whether its signature
verified against the endpoint's secret.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from aiohttp import web
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from devtools.embedded import free_port

__all__ = ["Received", "Receiver", "Reply"]


@dataclass(frozen=True)
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0  # answer this late (longer than the sender's timeout: a timeout)


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic()
    verified: bool
    error: str = ""
    status: int = 0  # what the receiver answered

    @property
    def webhook_id(self) -> str:
        return self.headers.get("webhook-id", "")


class Receiver:
    def __init__(self) -> None:
        self.port = free_port()
        self.scripts: dict[str, list[Reply]] = {}
        self.secrets: dict[str, str] = {}
        self.got: dict[str, list[Received]] = {}
        self._runner: web.AppRunner | None = None

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/hook/{name}"

    def endpoint(self, name: str, secret: str, *script: Reply) -> str:
        self.scripts[name] = list(script) or [Reply()]
        self.secrets[name] = secret
        self.got[name] = []
        return self.url(name)

    async def _handle(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        body = await request.read()
        headers = dict(request.headers)
        got = self.got.setdefault(name, [])
        script = self.scripts.get(name, [Reply(404)])
        reply = script[min(len(got), len(script) - 1)]
        lowered = {k.lower(): v for k, v in headers.items()}
        try:
            Webhook(self.secrets[name]).verify(body, headers)
            rec = Received(lowered, body, time.monotonic(), True, status=reply.status)
        except (WebhookVerificationError, KeyError) as exc:
            rec = Received(lowered, body, time.monotonic(), False, str(exc), status=reply.status)
        got.append(rec)
        if reply.delay_s:
            await asyncio.sleep(reply.delay_s)
        return web.Response(status=reply.status, headers=reply.headers)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook/{name}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def acknowledged(self, name: str) -> list[Received]:
        """The requests this endpoint answered with a 2xx."""
        return [r for r in self.got.get(name, []) if 200 <= r.status < 300]

    async def wait_for(self, name: str, count: int, timeout_s: float = 20.0) -> list[Received]:
        deadline = time.monotonic() + timeout_s
        while len(self.got.get(name, [])) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return self.got.get(name, [])
