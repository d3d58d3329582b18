"""What the benchmarks share: isolated settings per run, child-process environment, bulk produce."""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer

from shared.settings import Settings, Topics

__all__ = ["bench_settings", "child_env", "peak_rss_mb", "produce_all"]


def bench_settings(bootstrap: str, redis_url: str, prefix: str, **overrides: Any) -> Settings:
    """Settings with their own topics, groups and Redis namespace, and Tansu-friendly group timing.

    Tansu joins a group in about half the session timeout; 6 s is Apache Kafka's minimum.
    """
    run = f"{prefix}{uuid.uuid4().hex[:8]}"
    base: dict[str, Any] = {
        "bootstrap_servers": bootstrap,
        "redis_url": redis_url,
        "topics": Topics(
            **{k: f"{run}.{k}" for k in ("raw", "ingested", "enriched", "duplicates", "dlq", "deliveries")}
        ),
        "partitions": 8,
        "group_prefix": run,
        "redis_namespace": f"nfbench:{run}",
        "session_timeout_s": 6,
        "heartbeat_interval_s": 1,
        "rebalance_timeout_s": 6,
        "batch_wait_s": 0.05,
    }
    return Settings(**{**base, **overrides})


def child_env(s: Settings, **extra: str) -> dict[str, str]:
    """The environment of a worker process running with ``s`` (quiet logs)."""
    return {**os.environ, **s.to_env(), "NEWSFLOW_LOG_LEVEL": "WARNING", **extra}


async def produce_all(s: Settings, topic: str, values: list[bytes]) -> None:
    """Produce ``values`` to ``topic`` and wait until the broker acknowledged all of them."""
    p = AIOKafkaProducer(bootstrap_servers=s.bootstrap_servers, linger_ms=10, max_batch_size=1_048_576)
    await p.start()
    try:
        await asyncio.gather(*[await p.send(topic, v) for v in values])
    finally:
        await p.stop()


def peak_rss_mb(pid: int) -> float:
    """The peak resident set size of a running process (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")
