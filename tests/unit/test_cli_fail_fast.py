"""The service commands stop at once on settings that cannot work, naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")}
    return subprocess.run(
        [sys.executable, "-m", "services.cli", *args],
        cwd=ROOT, env={**clean, **env, "COLUMNS": "200"}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


@pytest.mark.parametrize("command", [["ingest"], ["enrich"], ["publish"], ["topics", "create"], ["dev"]])
def test_a_placeholder_password_stops_every_entrypoint_before_it_connects(command: list[str]) -> None:
    out = _run(
        *command,
        NEWSFLOW_KAFKA_SECURITY__PROTOCOL="SASL_SSL",
        NEWSFLOW_KAFKA_SECURITY__SASL_USERNAME="newsflow",
        NEWSFLOW_KAFKA_SECURITY__SASL_PASSWORD="CHANGE-ME",
        NEWSFLOW_BOOTSTRAP_SERVERS="127.0.0.1:1",  # nothing listens: a connection attempt would hang and retry
    )
    assert out.returncode == 2, out.stdout + out.stderr
    assert "NEWSFLOW_KAFKA_SECURITY__SASL_PASSWORD is empty or a placeholder" in out.stdout
    assert "CHANGE-ME" not in out.stdout + out.stderr


def test_a_sasl_protocol_without_a_user_is_named() -> None:
    out = _run("ingest", NEWSFLOW_KAFKA_SECURITY__PROTOCOL="SASL_PLAINTEXT", NEWSFLOW_BOOTSTRAP_SERVERS="127.0.0.1:1")
    assert out.returncode == 2
    assert "NEWSFLOW_KAFKA_SECURITY__SASL_USERNAME is required with NEWSFLOW_KAFKA_SECURITY__PROTOCOL" in out.stdout
