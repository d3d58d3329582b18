"""Kafka SASL/SCRAM-SHA-512 end to end, through Settings only.

The broker is an embedded Tansu behind ``devtools.scram_gate`` (``start_scram_kafka``):
Tansu 0.6.0 with ``--authentication`` cannot hold a SCRAM user in its in-memory
storage (the last test shows what it does instead), so the gate does the SCRAM
server side, over plaintext and over TLS (SASL_SSL). The services' own clients
(the CLI's send and tail, the ingest worker: Faust and aiokafka) connect with the
configured mechanism, user and password; a wrong password is refused by aiokafka
(which checks the server's signature) and by librdkafka (confluent-kafka), each of
which aborts on the failed exchange.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaConnectionError, KafkaError
from confluent_kafka import Producer
from pydantic import SecretStr

from devtools.embedded import TlsFiles, find_tansu, free_port, make_tls_files, start_scram_kafka, stop
from services.clients import RawInput, consume, send_raw
from shared.kafka import aiokafka_kwargs, ensure_topics
from shared.settings import KafkaSecurity, Settings
from shared.settings_check import require_workable

from ..conftest import Workers, make_settings

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

USER = "newsflow-svc"
PASSWORD = f"pw-{uuid.uuid4().hex}"


@pytest.fixture(scope="module")
def scram_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    procs = start_scram_kafka(port, {USER: PASSWORD}, tmp_path_factory.mktemp("scram"))
    try:
        yield f"127.0.0.1:{port}"
    finally:
        for p in reversed(procs):
            stop(p)


@pytest.fixture(scope="module")
def scram_ssl_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, TlsFiles]]:
    """The same over TLS (SASL_SSL), with a throwaway CA."""
    d = tmp_path_factory.mktemp("scram-ssl")
    tls = make_tls_files(d / "tls")
    port = free_port()
    procs = start_scram_kafka(port, {USER: PASSWORD}, d, tls=tls)
    try:
        yield f"127.0.0.1:{port}", tls
    finally:
        for p in reversed(procs):
            stop(p)


def _security(password: str, user: str = USER, ca: Path | None = None) -> KafkaSecurity:
    return KafkaSecurity(
        protocol="SASL_SSL" if ca else "SASL_PLAINTEXT",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username=user,
        sasl_password=SecretStr(password),
        ssl_cafile=ca,
    )


@pytest.fixture(params=["SASL_PLAINTEXT", "SASL_SSL"])
def scram_settings(request: pytest.FixtureRequest, redis_url: str) -> Settings:
    if request.param == "SASL_SSL":
        bootstrap, tls = request.getfixturevalue("scram_ssl_broker")
        return make_settings(bootstrap, redis_url, kafka_security=_security(PASSWORD, ca=tls.ca))
    return make_settings(request.getfixturevalue("scram_broker"), redis_url, kafka_security=_security(PASSWORD))


async def test_ingest_runs_with_scram_sha_512_from_settings(scram_settings: Settings, tmp_path: Path) -> None:
    s = require_workable(scram_settings)
    assert await ensure_topics(s)
    workers = Workers(s, tmp_path)
    try:
        workers.start("ingest")
        body = "The river rose two metres overnight and the town council opened the school as a shelter. " * 4
        value = orjson.dumps({"title": "Flood in the valley", "body": body, "url": "https://example.org/flood"})
        assert await send_raw(s, [RawInput(value, "test")]) == 1

        async def first() -> dict[str, object]:
            async for _tp, _off, _key, out, _h in consume(s, s.topics.ingested, from_beginning=True, limit=1):
                return dict(orjson.loads(out or b"{}"))
            raise AssertionError("no record")

        article = await asyncio.wait_for(first(), 90)
        assert article["title"] == "Flood in the valley"
        log = workers.logs()
        assert PASSWORD not in log, "the password must never be logged"
    finally:
        workers.stop_all()


async def test_a_wrong_password_is_refused_by_aiokafka(scram_broker: str, redis_url: str) -> None:
    s = make_settings(scram_broker, redis_url, kafka_security=_security("not-the-password"))
    producer = AIOKafkaProducer(**aiokafka_kwargs(s), request_timeout_ms=5000)
    with pytest.raises(KafkaError):
        await producer.start()
    await producer.stop()


async def test_sasl_ssl_without_the_ca_fails_certificate_verification(
    scram_ssl_broker: tuple[str, TlsFiles], redis_url: str
) -> None:
    s = make_settings(scram_ssl_broker[0], redis_url, kafka_security=_security(PASSWORD).model_copy(
        update={"protocol": "SASL_SSL"}))  # fmt: skip
    admin = AIOKafkaAdminClient(**aiokafka_kwargs(s), request_timeout_ms=5000)
    with pytest.raises(KafkaConnectionError):  # the system CAs do not know the throwaway CA
        await admin.start()
    await admin.close()


async def test_an_unknown_user_is_refused_by_aiokafka(scram_broker: str, redis_url: str) -> None:
    s = make_settings(scram_broker, redis_url, kafka_security=_security(PASSWORD, user="mallory"))
    admin = AIOKafkaAdminClient(**aiokafka_kwargs(s), request_timeout_ms=5000)
    with pytest.raises(KafkaError):
        await admin.start()
    await admin.close()


def _librdkafka_produce(bootstrap: str, password: str) -> list[str]:
    errors: list[str] = []
    p = Producer(
        {
            "bootstrap.servers": bootstrap,
            "security.protocol": "SASL_PLAINTEXT",
            "sasl.mechanism": "SCRAM-SHA-512",
            "sasl.username": USER,
            "sasl.password": password,
            "error_cb": lambda e: errors.append(str(e)),
            "message.timeout.ms": 8000,
        }
    )
    delivered: list[str] = []
    p.produce("scram.check", b"x", on_delivery=lambda err, _m: delivered.append("ok" if err is None else str(err)))
    p.flush(10)
    return errors + delivered


def test_librdkafka_is_refused_with_a_wrong_password_and_admitted_with_the_right_one(scram_broker: str) -> None:
    bad = _librdkafka_produce(scram_broker, "not-the-password")
    assert any("SASL authentication error" in e or "Authentication failed" in e for e in bad), bad
    assert "ok" not in bad
    assert _librdkafka_produce(scram_broker, PASSWORD)[-1] == "ok"


async def test_plain_tansu_with_authentication_refuses_clients_but_keeps_no_scram_user(tmp_path: Path) -> None:
    """What Tansu 0.6.0 ``--authentication`` does on its own (why the gate exists): a client that
    does not authenticate is dropped, and a user created with ``tansu user create`` cannot log
    in (the command needs an unauthenticated connection, which such a broker refuses)."""
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [str(find_tansu()), "broker", "--listener-url", url, "--advertised-listener-url", url,
         "--storage-engine", "memory://tansu/", "--authentication"],
        stdout=(tmp_path / "tansu.log").open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and proc.poll() is None:
            created = subprocess.run(
                [str(find_tansu()), "user", "create", "--broker", url, USER, PASSWORD], capture_output=True, text=True
            )
            if "Connection refused" not in created.stderr:
                break
            time.sleep(0.1)
        assert created.returncode != 0, "tansu user create should be refused by an authenticating broker"
        anonymous = AIOKafkaAdminClient(bootstrap_servers=f"127.0.0.1:{port}", request_timeout_ms=3000)
        with pytest.raises(KafkaConnectionError):
            await anonymous.start()
        await anonymous.close()
        s = Settings(bootstrap_servers=f"127.0.0.1:{port}", kafka_security=_security(PASSWORD))
        scram = AIOKafkaAdminClient(**aiokafka_kwargs(s), request_timeout_ms=3000)
        with pytest.raises((KafkaError, KeyError)):  # aiokafka aborts: the final message has no server signature
            await scram.start()
        await scram.close()
    finally:
        stop(proc)
