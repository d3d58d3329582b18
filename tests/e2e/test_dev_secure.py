"""``newsflow dev --secure --demo``: TLS + SCRAM broker, TLS + ACL Redis, the demo through both, no secret printed."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import stat
from pathlib import Path

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaConnectionError
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError

from devtools.embedded import port_open

from .test_dev import _alive, dev_env, start_dev

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ROOT = Path(__file__).resolve().parent.parent.parent


def _env_file_values(path: Path) -> dict[str, str]:
    return dict(re.findall(r"^(NEWSFLOW_\w+)='(.*)'$", path.read_text(), flags=re.M))


async def _plain_clients_are_refused(kafka_port: int, redis_port: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=f"127.0.0.1:{kafka_port}", request_timeout_ms=3000)
    with pytest.raises(KafkaConnectionError):  # neither TLS nor SASL: the gate drops the connection
        await admin.start()
    await admin.close()
    plain = Redis.from_url(f"redis://127.0.0.1:{redis_port}/0", socket_timeout=3)
    with pytest.raises(RedisConnectionError):  # no TLS
        await plain.ping()
    await plain.aclose()


def test_dev_secure_runs_the_demo_over_scram_and_tls_and_prints_no_secret(tmp_path: Path, pg_url: str) -> None:
    env, kafka_port, redis_port = dev_env(tmp_path, pg_url)
    log_dir = tmp_path / "state" / "logs"
    out_path = tmp_path / "dev.out"
    proc, text = start_dev(["--secure", "--demo", "--log-dir", str(log_dir)], env, out_path, timeout_s=240)
    try:
        assert "SCRAM-SHA-512" in text and "TLS and ACL user 'newsflow'" in text, text
        assert "demo: 7 of 7 results shown" in text, text  # the samples and the demo feed's entries
        env_file = tmp_path / "state" / "secure" / "newsflow.env"
        assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
        values = _env_file_values(env_file)
        assert values["NEWSFLOW_REDIS_URL"] == f"rediss://127.0.0.1:{redis_port}/0"
        assert Path(values["NEWSFLOW_REDIS_TLS_CA_FILE"]).is_file()
        kafka = json.loads(values["NEWSFLOW_KAFKA_SECURITY"])
        assert kafka["sasl_mechanism"] == "SCRAM-SHA-512" and kafka["protocol"] == "SASL_SSL"
        secrets = [values["NEWSFLOW_REDIS_PASSWORD"], kafka["sasl_password"]]
        logs = text + "".join(p.read_text(errors="replace") for p in log_dir.glob("*.log"))
        assert "ingest starting: kafka" in logs and "SCRAM-SHA-512 as newsflow" in logs, logs[-3000:]
        assert all(len(x) >= 24 and x not in logs for x in secrets), "a generated secret was printed or logged"
        asyncio.run(_plain_clients_are_refused(kafka_port, redis_port))
        pids = [int(p) for p in re.findall(r"pid (\d+)", text)]
        assert len(pids) == 8, text  # tansu, gate, redis, five services (the archive: pg_url answered)
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(60)
    text = out_path.read_text(errors="replace")
    assert code == 0, text
    assert not any(_alive(p) for p in pids), text
    assert not port_open("127.0.0.1", kafka_port) and not port_open("127.0.0.1", redis_port)
