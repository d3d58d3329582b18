"""``newsflow dev``: the whole pipeline on one machine, no Docker.

Uses the broker and Redis at the configured addresses when they answer, else
starts them as child processes (Tansu, redis-server / valkey-server); creates
the topics; runs ingest, enrich and publish as separate processes; stops every
child on Ctrl-C / SIGTERM.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from shared.embedded import free_port, port_open, start_redis, start_tansu, stop
from shared.kafka import ensure_topics, wait_for_broker
from shared.settings import Settings

__all__ = ["SERVICES", "DevStack"]

SERVICES = ("ingest", "enrich", "publish")


def _host_port(address: str, default_port: int) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return (host or "127.0.0.1"), int(port or default_port)


@dataclass
class DevStack:
    settings: Settings
    log_dir: Path
    say: object = print
    children: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    publish_port: int = 0

    def _say(self, msg: str) -> None:
        self.say(msg)  # type: ignore[operator]

    def start_infrastructure(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        s = self.settings
        first = s.bootstrap_servers.split(",")[0].strip()
        host, port = _host_port(first, 9092)
        if port_open(host, port):
            self._say(f"broker: using the one at {first}")
        else:
            if host not in ("127.0.0.1", "localhost"):
                raise RuntimeError(
                    f"broker {first} is not reachable and is not local; start it or fix NEWSFLOW_BOOTSTRAP_SERVERS"
                )
            proc = start_tansu(port, host="127.0.0.1", log=self.log_dir / "tansu.log")
            self.children.append(("tansu", proc))
            # The embedded broker keeps nothing on disk: give this run its own dedup
            # namespace, so articles of a previous run are not "duplicates" of nothing.
            # Short group timeouts make the first group join ~3 s (Tansu only).
            self.env.update(
                {
                    "NEWSFLOW_REDIS_NAMESPACE": f"{s.redis_namespace}:dev-{int(time.time())}",
                    "NEWSFLOW_SESSION_TIMEOUT_S": "6",
                    "NEWSFLOW_HEARTBEAT_INTERVAL_S": "1",
                    "NEWSFLOW_REBALANCE_TIMEOUT_S": "6",
                }
            )
            self._say(f"broker: started Tansu (in memory) on {host}:{port}, pid {proc.pid}")
        u = urlparse(s.redis_url)
        rhost, rport = u.hostname or "127.0.0.1", u.port or 6379
        if port_open(rhost, rport):
            self._say(f"redis:  using the one at {rhost}:{rport}")
        else:
            if rhost not in ("127.0.0.1", "localhost"):
                raise RuntimeError(f"Redis {rhost}:{rport} is not reachable and is not local")
            proc = start_redis(rport, log=self.log_dir / "redis.log")
            self.children.append(("redis", proc))
            self._say(f"redis:  started a server (nothing kept on disk) on {rhost}:{rport}, pid {proc.pid}")
        asyncio.run(self._topics())

    async def _topics(self) -> None:
        await wait_for_broker(self.settings, timeout_s=30)
        created = await ensure_topics(self.settings)
        names = ", ".join(self.settings.topics.all())
        self._say(f"topics: {names} ({self.settings.partitions} partitions; {len(created)} created)")

    @property
    def page_url(self) -> str | None:
        """The live story page (publish's web server), once the services are started."""
        return f"http://127.0.0.1:{self.publish_port}/" if self.publish_port else None

    def start_services(self, web_port_base: int = 0) -> None:
        env = {**os.environ, **self.env}
        # publish serves the HTTP API and the live page: NEWSFLOW_WEB_PORT when set, else a free port
        self.publish_port = web_port_base + SERVICES.index("publish") if web_port_base else (
            self.settings.web_port or free_port()
        )  # fmt: skip
        for i, name in enumerate(SERVICES):
            child_env = dict(env)
            if web_port_base:
                child_env["NEWSFLOW_WEB_PORT"] = str(web_port_base + i)
            elif name == "publish":
                child_env["NEWSFLOW_WEB_PORT"] = str(self.publish_port)
            else:
                child_env.pop("NEWSFLOW_WEB_PORT", None)  # one port, one process
            log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
            proc = subprocess.Popen(
                [sys.executable, "-m", "services.cli", name], env=child_env, stdout=log, stderr=subprocess.STDOUT
            )
            self.children.append((name, proc))
            self._say(f"{name}: pid {proc.pid}, log {self.log_dir / (name + '.log')}")

    def check_children(self) -> list[str]:
        """Names of children that have exited."""
        return [name for name, p in self.children if p.poll() is not None]

    def stop_all(self) -> None:
        # services first (they commit and leave their groups), infrastructure last
        for name, proc in reversed(self.children):
            if name in SERVICES and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for name, proc in reversed(self.children):
            stop(proc, timeout_s=15 if name in SERVICES else 5)
        self.children.clear()
