"""Fail fast: settings that cannot work are refused at start-up, naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from shared.settings import KafkaSecurity, Settings
from shared.settings_check import SettingsError, is_placeholder, require_workable, settings_problems

REAL = "s3cr3t-9f2c1e77"


def _sasl(**kw: object) -> KafkaSecurity:
    base: dict[str, object] = {
        "protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_username": "newsflow",
        "sasl_password": SecretStr(REAL),
    }
    base.update(kw)
    return KafkaSecurity(**base)  # type: ignore[arg-type]  # field values of mixed types from a dict


def _one(settings: Settings) -> str:
    problems = settings_problems(settings)
    assert len(problems) == 1, problems
    return problems[0]


def test_the_defaults_and_a_complete_secure_setup_are_workable(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    assert settings_problems(Settings()) == []
    secure = Settings(
        kafka_security=_sasl(ssl_cafile=ca),
        redis_url="rediss://redis.internal:6380/0",
        redis_username="newsflow",
        redis_password=SecretStr(REAL),
        redis_tls_ca_file=ca,
    )
    assert require_workable(secure) is secure


@pytest.mark.parametrize("missing", ["sasl_username", "sasl_password"])
def test_a_sasl_protocol_without_credentials_names_the_missing_variable(missing: str) -> None:
    problem = _one(Settings(kafka_security=_sasl(**{missing: None})))
    assert f"NEWSFLOW_KAFKA_SECURITY__{missing.upper()} is required" in problem
    assert "NEWSFLOW_KAFKA_SECURITY__PROTOCOL=SASL_SSL" in problem


def test_credentials_that_the_protocol_would_never_use_are_refused() -> None:
    problem = _one(Settings(kafka_security=_sasl(protocol="PLAINTEXT")))
    assert "NEWSFLOW_KAFKA_SECURITY__SASL_USERNAME" in problem and "PROTOCOL=PLAINTEXT" in problem


@pytest.mark.parametrize(
    "value", ["", "  ", "changeme", "CHANGE_ME", "CHANGE-ME", "change me", "example", "<password>", "${PASSWORD}",
              "xxxx", "********", "replace-me", "secret", "TODO"],
)  # fmt: skip
def test_placeholder_secrets_are_refused_without_echoing_them(value: str) -> None:
    assert is_placeholder(value)
    kafka = _one(Settings(kafka_security=_sasl(sasl_password=SecretStr(value))))
    assert "NEWSFLOW_KAFKA_SECURITY__SASL_PASSWORD is empty or a placeholder" in kafka
    redis = _one(Settings(redis_password=SecretStr(value)))
    assert "NEWSFLOW_REDIS_PASSWORD is empty or a placeholder" in redis


@pytest.mark.parametrize("value", [REAL, "correct horse battery staple", "example-but-long-7d1c", "p@ssw0rd-2026"])
def test_real_looking_secrets_are_not_placeholders(value: str) -> None:
    assert not is_placeholder(value)


def test_ssl_files_that_do_not_exist_are_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pem"
    problem = _one(Settings(kafka_security=_sasl(ssl_cafile=missing)))
    assert problem == f"NEWSFLOW_KAFKA_SECURITY__SSL_CAFILE={missing} is not a readable file"
    problems = settings_problems(Settings(kafka_security=_sasl(ssl_keyfile=missing)))
    assert any("SSL_KEYFILE needs NEWSFLOW_KAFKA_SECURITY__SSL_CERTFILE" in p for p in problems)


def test_ssl_files_without_an_ssl_protocol_are_refused(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    problem = _one(Settings(kafka_security=KafkaSecurity(protocol="SASL_PLAINTEXT", sasl_username="u",
                                                          sasl_password=SecretStr(REAL), ssl_cafile=ca)))  # fmt: skip
    assert "NEWSFLOW_KAFKA_SECURITY__SSL_CAFILE set but NEWSFLOW_KAFKA_SECURITY__PROTOCOL=SASL_PLAINTEXT" in problem


def test_rediss_with_a_missing_ca_file_is_named(tmp_path: Path) -> None:
    problem = _one(Settings(redis_url="rediss://r:6380/0", redis_tls_ca_file=tmp_path / "ca.pem"))
    assert problem.startswith("NEWSFLOW_REDIS_TLS_CA_FILE=") and problem.endswith("is not a readable file")


def test_redis_tls_files_need_a_rediss_url(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    problem = _one(Settings(redis_url="redis://r:6379/0", redis_tls_ca_file=ca))
    assert "NEWSFLOW_REDIS_TLS_CA_FILE set but NEWSFLOW_REDIS_URL is not rediss://" in problem


def test_a_client_certificate_needs_its_key(tmp_path: Path) -> None:
    cert = tmp_path / "c.pem"
    cert.write_text("x")
    problem = _one(Settings(redis_url="rediss://r:6380/0", redis_tls_cert_file=cert))
    assert "NEWSFLOW_REDIS_TLS_CERT_FILE and NEWSFLOW_REDIS_TLS_KEY_FILE go together" in problem


def test_a_password_inside_the_redis_url_is_refused_and_not_repeated() -> None:
    problem = _one(Settings(redis_url=f"redis://:{REAL}@r:6379/0"))
    assert "NEWSFLOW_REDIS_URL holds a password" in problem and "NEWSFLOW_REDIS_PASSWORD" in problem
    assert REAL not in problem


def test_an_acl_user_needs_a_password_and_a_known_scheme() -> None:
    assert "NEWSFLOW_REDIS_USERNAME is set without NEWSFLOW_REDIS_PASSWORD" in _one(Settings(redis_username="nf"))
    assert "NEWSFLOW_REDIS_URL should start with redis:// or rediss://" in _one(Settings(redis_url="http://r:6379"))


def test_a_heartbeat_not_below_the_session_timeout_cannot_work() -> None:
    problem = _one(Settings(session_timeout_s=6, heartbeat_interval_s=6))
    assert "NEWSFLOW_HEARTBEAT_INTERVAL_S=6.0 must be below NEWSFLOW_SESSION_TIMEOUT_S=6.0" in problem


def test_require_workable_lists_every_problem_and_never_a_secret() -> None:
    bad = Settings(
        kafka_security=_sasl(sasl_username=None, sasl_password=SecretStr("changeme")),
        redis_url=f"rediss://:{REAL}@r:6380/0",
    )
    with pytest.raises(SettingsError) as err:
        require_workable(bad)
    assert len(err.value.problems) == 3
    text = str(err.value)
    assert "NEWSFLOW_KAFKA_SECURITY__SASL_USERNAME" in text and "NEWSFLOW_REDIS_URL" in text
    assert REAL not in text and "changeme" not in text
