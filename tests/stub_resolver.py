"""A DNS resolver for the tests that answers from a table and sends nothing on the network.

The SSRF tests point webhook names at private and link-local addresses through it: a refusal is
asserted without a packet ever going to such an address (the guarded resolver refuses the answer
before aiohttp connects).
"""

from __future__ import annotations

import socket

from aiohttp.abc import AbstractResolver, ResolveResult

__all__ = ["StubResolver"]


class StubResolver(AbstractResolver):
    """``answers`` maps a host name to its addresses (change it to make an answer change); every question
    is recorded in ``asked``; a name not in the table does not resolve (``socket.gaierror``)."""

    def __init__(self, answers: dict[str, list[str]] | None = None) -> None:
        self.answers: dict[str, list[str]] = dict(answers or {})
        self.asked: list[str] = []

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        name = host.rstrip(".").lower()
        self.asked.append(name)
        if name not in self.answers:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            {
                "hostname": host, "host": addr, "port": port,
                "family": socket.AF_INET6 if ":" in addr else socket.AF_INET, "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
            for addr in self.answers[name]
        ]  # fmt: skip

    async def close(self) -> None:
        return None
