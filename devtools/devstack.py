"""``newsflow dev``: the whole pipeline on one machine, no Docker.

Uses the broker, Redis and PostgreSQL at the configured addresses when they
answer, else starts them as child processes (Tansu, redis-server / valkey-server,
PostgreSQL in ``.newsflow/postgres``, kept between runs); creates the topics;
runs ingest, enrich, publish and archive as separate processes; stops every
child on Ctrl-C / SIGTERM.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlparse

from psycopg.conninfo import conninfo_to_dict
from pydantic import SecretStr

from devtools.embedded import (
    free_port,
    make_tls_files,
    port_open,
    start_postgres,
    start_redis,
    start_scram_kafka,
    start_tansu,
    stop,
    write_redis_acl,
)
from shared.apiauth import key_namespace
from shared.apikeys import RedisKeyStore
from shared.kafka import ensure_topics, wait_for_broker
from shared.redis_client import make_redis
from shared.settings import KafkaSecurity, Settings

__all__ = ["SERVICES", "DevStack"]

SERVICES = ("ingest", "enrich", "publish", "archive", "intake")
#: the feed ``newsflow dev --demo`` serves on loopback for intake to poll (two invented articles)
DEMO_FEED = Path(__file__).resolve().parent / "demo_feed"
DEMO_FEED_ENTRIES = 2
T = TypeVar("T")


def _host_port(address: str, default_port: int) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return (host or "127.0.0.1"), int(port or default_port)


@dataclass
class DevStack:
    settings: Settings
    log_dir: Path
    say: Callable[[str], object] = print
    secure: bool = False  # SASL/SCRAM broker and TLS + ACL Redis, with generated credentials
    children: list[tuple[str, subprocess.Popen[bytes]]] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    publish_port: int = 0
    session_key: str | None = None  # the admin API key made for this session (revoked on stop)
    _session_key_name: str | None = None

    def _say(self, msg: str) -> None:
        self.say(msg)

    def start_infrastructure(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        if self.secure:
            self._start_secure()
            self._postgres()
            asyncio.run(self._topics())
            return
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
        self._postgres()
        asyncio.run(self._topics())

    def _postgres(self) -> None:
        """The archive's PostgreSQL: the configured one when it answers, else one started on its port with
        its data in ``.newsflow/postgres`` (kept between runs, like an archive should be)."""
        info = conninfo_to_dict(self.settings.archive_conninfo())
        phost, pport = str(info.get("host") or "127.0.0.1"), int(info.get("port") or 5432)
        if port_open(phost, pport):
            self._say(f"postgres: using the one at {phost}:{pport}")
            return
        if phost not in ("127.0.0.1", "localhost"):
            raise RuntimeError(f"PostgreSQL {phost}:{pport} is not reachable and is not local (NEWSFLOW_ARCHIVE_URL)")
        data = (self.log_dir.parent / "postgres").resolve()
        proc = start_postgres(pport, data / "data", log=self.log_dir / "postgres.log")
        self.children.append(("postgres", proc))
        self._say(f"postgres: started a server on {phost}:{pport} (data in {data}), pid {proc.pid}")

    def _start_secure(self) -> None:
        """Its own broker behind TLS + SCRAM-SHA-512 and its own Redis over TLS with an ACL user, on the
        configured (local, free) addresses; credentials and CA generated into ``.newsflow/secure``."""
        s = self.settings
        host, port = _host_port(s.bootstrap_servers.split(",")[0].strip(), 9092)
        u = urlparse(s.redis_url)
        rhost, rport = u.hostname or "127.0.0.1", u.port or 6379
        for what, (h, p), var in (("broker", (host, port), "NEWSFLOW_BOOTSTRAP_SERVERS"),
                                  ("Redis", (rhost, rport), "NEWSFLOW_REDIS_URL")):  # fmt: skip
            if h not in ("127.0.0.1", "localhost"):
                raise RuntimeError(f"--secure starts a local {what}: {var} must point at 127.0.0.1")
            if port_open(h, p):
                raise RuntimeError(f"--secure starts its own {what}, but {h}:{p} is taken: set {var} to a free port")
        folder = self.log_dir.parent / "secure"
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o700)
        user = "newsflow"
        kafka_password, redis_password = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        namespace = f"{s.redis_namespace}:dev-{int(time.time())}"
        tls = make_tls_files(folder / "tls")
        tansu, gate = start_scram_kafka(port, {user: kafka_password}, self.log_dir, tls=tls)
        self.children += [("tansu", tansu), ("scram-gate", gate)]
        self._say(f"broker: started Tansu (in memory), pid {tansu.pid}, behind a TLS + SCRAM-SHA-512 gate on "
                  f"127.0.0.1:{port}, pid {gate.pid}")  # fmt: skip
        acl = write_redis_acl(folder / "redis-users.acl", {user: (redis_password, f"{s.redis_namespace}:*")})
        proc = start_redis(rport, tls=tls, acl_file=acl, log=self.log_dir / "redis.log")
        self.children.append(("redis", proc))
        self._say(f"redis:  started a server with TLS and ACL user {user!r} on 127.0.0.1:{rport}, pid {proc.pid}")
        self.settings = s.model_copy(
            update={
                "kafka_security": KafkaSecurity(
                    protocol="SASL_SSL",
                    sasl_mechanism="SCRAM-SHA-512",
                    sasl_username=user,
                    sasl_password=SecretStr(kafka_password),
                    ssl_cafile=tls.ca.resolve(),
                ),
                "redis_url": f"rediss://127.0.0.1:{rport}/0",
                "redis_username": user,
                "redis_password": SecretStr(redis_password),
                "redis_tls_ca_file": tls.ca.resolve(),
                "redis_namespace": namespace,
                "session_timeout_s": 6.0,
                "heartbeat_interval_s": 1.0,
                "rebalance_timeout_s": 6.0,
            }
        )
        wanted = ("NEWSFLOW_KAFKA_SECURITY", "NEWSFLOW_REDIS_", "NEWSFLOW_SESSION_", "NEWSFLOW_HEARTBEAT_",
                  "NEWSFLOW_REBALANCE_", "NEWSFLOW_BOOTSTRAP_SERVERS")  # fmt: skip
        self.env.update({k: v for k, v in self.settings.to_env().items() if k.startswith(wanted)})
        env_file = folder / "newsflow.env"
        env_file.write_text("".join(f"{k}='{v}'\n" for k, v in sorted(self.env.items())))
        env_file.chmod(0o600)
        self._say(
            f"secure: Kafka SASL_SSL + SCRAM-SHA-512 as {user!r}; Redis rediss:// as {user!r}; "
            f"both signed by the CA {tls.ca}\n"
            f"        credentials (generated, mode 600): {env_file}\n"
            f"        use them from a shell:  set -a; . {env_file}; set +a; newsflow tail --from-beginning"
        )

    async def _topics(self) -> None:
        await wait_for_broker(self.settings, timeout_s=30)
        created = await ensure_topics(self.settings)
        names = ", ".join(self.settings.topics.all())
        self._say(f"topics: {names} ({self.settings.partitions} partitions; {len(created)} created)")

    @property
    def page_url(self) -> str | None:
        """The live story page (publish's web server), once the services are started."""
        return f"http://127.0.0.1:{self.publish_port}/" if self.publish_port else None

    def serve_demo_feed(self) -> str:
        """Serve :data:`DEMO_FEED` on a loopback port (a child ``http.server``) and make it intake's source
        (unless ``NEWSFLOW_INTAKE_SOURCES_FILE`` names one); intake may then reach loopback, for this feed."""
        port = free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", str(DEMO_FEED)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.children.append(("demo-feed", proc))
        url = f"http://127.0.0.1:{port}/rss.xml"
        if "NEWSFLOW_INTAKE_SOURCES_FILE" not in os.environ:
            sources = self.log_dir / "demo-sources.yaml"
            sources.write_text(f"- id: demo-gazette\n  url: {url}\n  interval_s: 60\n  fetch_pages: false\n", "utf-8")
            self.env["NEWSFLOW_INTAKE_SOURCES_FILE"] = str(sources)
            self.env.setdefault("NEWSFLOW_INTAKE_ALLOW_PRIVATE_NETWORKS", "true")
        self._say(f"demo feed: {url} (intake polls it every 60 s)")
        return url

    def start_services(self, web_port_base: int) -> None:
        """Start ingest, enrich, publish, archive and intake; each serves its web port (``/metrics``...) at
        ``web_port_base`` + its index, publish with the HTTP API, the search and the live page, intake with the
        sources API and HTTP push."""
        # the page works out of the box: reading needs no key in dev (unless the environment says otherwise)
        anonymous = {} if "NEWSFLOW_API_ANONYMOUS_READ" in os.environ else {"NEWSFLOW_API_ANONYMOUS_READ": "true"}
        env = {**os.environ, **anonymous, **self.env}
        self.publish_port = web_port_base + SERVICES.index("publish")
        for i, name in enumerate(SERVICES):
            child_env = {**env, "NEWSFLOW_WEB_PORT": str(web_port_base + i)}
            log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
            proc = subprocess.Popen(
                [sys.executable, "-m", "services.cli", name], env=child_env, stdout=log, stderr=subprocess.STDOUT
            )
            self.children.append((name, proc))
            self._say(f"{name}: pid {proc.pid}, log {self.log_dir / (name + '.log')}")

    @property
    def service_settings(self) -> Settings:
        """The settings the services run with (this run's Redis namespace, when one was given)."""
        ns = self.env.get("NEWSFLOW_REDIS_NAMESPACE", self.settings.redis_namespace)
        return self.settings.model_copy(update={"redis_namespace": ns})

    def create_session_key(self) -> str:
        """An ``admin`` API key for this session, in the services' namespace; revoked by :meth:`stop_all`."""
        name = f"dev-session-{int(time.time())}-{secrets.token_hex(2)}"
        key, _ = asyncio.run(self._keys(lambda store: store.create(name, frozenset({"admin"}))))
        self.session_key, self._session_key_name = key, name
        return key

    async def _keys(self, work: Callable[[RedisKeyStore], Awaitable[T]]) -> T:
        s = self.service_settings
        redis = make_redis(s)
        try:
            return await work(RedisKeyStore(redis, namespace=key_namespace(s)))
        finally:
            await redis.aclose()

    def check_children(self) -> list[str]:
        """Names of children that have exited."""
        return [name for name, p in self.children if p.poll() is not None]

    def stop_all(self) -> None:
        # services first (they commit and leave their groups), infrastructure last
        for name, proc in reversed(self.children):
            if name in SERVICES and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for name, proc in reversed(self.children):
            if name == "redis" and self._session_key_name:
                self._revoke_session_key()  # before our own Redis goes
            stop(proc, timeout_s=15 if name in SERVICES else 5)
        self.children.clear()
        self._revoke_session_key()

    def _revoke_session_key(self) -> None:
        name, self._session_key_name = self._session_key_name, None
        if name:
            try:
                asyncio.run(self._keys(lambda store: store.revoke(name)))
            except Exception as exc:  # Redis already gone: an embedded one keeps nothing anyway
                self._say(f"could not revoke the session key {name!r}: {exc}")
