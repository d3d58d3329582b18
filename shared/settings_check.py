"""Fail fast on settings that cannot work, naming the variable to fix.

``settings_problems`` is pure (apart from looking whether configured files
exist) and returns one sentence per problem; ``require_workable`` raises
:class:`SettingsError` with all of them. Every service command and ``newsflow
dev`` call it before connecting to anything, so a container with a placeholder
password or a SASL protocol without credentials stops at once with a message,
instead of retrying a connection that can never succeed.

No message ever contains a secret's value.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import SecretStr

from .settings import Settings

__all__ = [
    "SettingsError",
    "connection_summary",
    "env_name",
    "is_placeholder",
    "require_workable",
    "settings_problems",
]

# Values people leave in templates: they never are the real secret.
_PLACEHOLDER = re.compile(
    r"(change[-_ .]?me|change[-_ .]?it|replace[-_ .]?me|example|placeholder|password|secret|todo|fixme|"
    r"x{3,}|\*{3,}|\.{3,}|<[^>]*>|\$\{[^}]*\}|\{\{[^}]*\}\})",
    re.IGNORECASE,
)


class SettingsError(ValueError):
    """Settings that cannot work; ``problems`` lists each, naming its variable."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("newsflow cannot start with these settings:\n" + "\n".join(f"  - {p}" for p in problems))


def env_name(*path: str) -> str:
    """The environment variable of a settings field: ``env_name("kafka_security", "sasl_password")``."""
    return "NEWSFLOW_" + "__".join(p.upper() for p in path)


def is_placeholder(value: str) -> bool:
    """True for an empty value or one such as ``changeme``, ``CHANGE_ME``, ``<password>``, ``example``."""
    return not value.strip() or _PLACEHOLDER.fullmatch(value.strip()) is not None


def _secret_problem(name: str, secret: SecretStr | None) -> str | None:
    if secret is not None and is_placeholder(secret.get_secret_value()):
        return f"{name} is empty or a placeholder; set the real secret"
    return None


def _file_problems(files: dict[str, Path | None]) -> list[str]:
    out = []
    for name, path in files.items():
        if path is not None and not path.is_file():
            out.append(f"{name}={path} is not a readable file")
    return out


def _kafka_problems(s: Settings) -> list[str]:
    sec = s.kafka_security
    proto = env_name("kafka_security", "protocol")
    user, password = env_name("kafka_security", "sasl_username"), env_name("kafka_security", "sasl_password")
    out: list[str] = []
    if not [b for b in s.bootstrap_servers.split(",") if b.strip()]:
        out.append(f"{env_name('bootstrap_servers')} is empty")
    if sec.protocol.startswith("SASL"):
        if not sec.sasl_username:
            out.append(f"{user} is required with {proto}={sec.protocol}")
        if sec.sasl_password is None:
            out.append(f"{password} is required with {proto}={sec.protocol}")
    elif sec.sasl_username or sec.sasl_password is not None:
        out.append(f"{user} / {password} are set but {proto}={sec.protocol} does not use them; use SASL_SSL")
    if sec.sasl_username is not None and is_placeholder(sec.sasl_username):
        out.append(f"{user} is empty or a placeholder")
    if problem := _secret_problem(password, sec.sasl_password):
        out.append(problem)
    ssl_files = {
        env_name("kafka_security", "ssl_cafile"): sec.ssl_cafile,
        env_name("kafka_security", "ssl_certfile"): sec.ssl_certfile,
        env_name("kafka_security", "ssl_keyfile"): sec.ssl_keyfile,
    }
    if sec.protocol not in ("SSL", "SASL_SSL") and any(v is not None for v in ssl_files.values()):
        out.append(f"{'/'.join(k for k, v in ssl_files.items() if v is not None)} set but {proto}={sec.protocol}")
    if sec.ssl_keyfile is not None and sec.ssl_certfile is None:
        out.append(f"{env_name('kafka_security', 'ssl_keyfile')} needs {env_name('kafka_security', 'ssl_certfile')}")
    return out + _file_problems(ssl_files)


def _redis_problems(s: Settings) -> list[str]:
    url_name = env_name("redis_url")
    out: list[str] = []
    try:
        u = urlsplit(s.redis_url)
        scheme, has_password, has_user = u.scheme, u.password is not None, bool(u.username)
    except ValueError as exc:
        return [f"{url_name} does not parse: {exc}"]
    if scheme not in ("redis", "rediss", "unix"):
        out.append(f"{url_name} should start with redis:// or rediss:// (TLS), not {scheme}://")
    if has_password:
        out.append(
            f"{url_name} holds a password, which would show in logs and config maps: "
            f"put it in {env_name('redis_password')}"
        )
    if has_user and s.redis_username:
        out.append(f"{url_name} names a user and so does {env_name('redis_username')}: keep one")
    if s.redis_username is not None:
        if is_placeholder(s.redis_username):
            out.append(f"{env_name('redis_username')} is empty or a placeholder")
        if s.redis_password is None:
            out.append(f"{env_name('redis_username')} is set without {env_name('redis_password')}")
    if problem := _secret_problem(env_name("redis_password"), s.redis_password):
        out.append(problem)
    tls_files = {
        env_name("redis_tls_ca_file"): s.redis_tls_ca_file,
        env_name("redis_tls_cert_file"): s.redis_tls_cert_file,
        env_name("redis_tls_key_file"): s.redis_tls_key_file,
    }
    if scheme != "rediss" and any(v is not None for v in tls_files.values()):
        out.append(f"{'/'.join(k for k, v in tls_files.items() if v is not None)} set but {url_name} is not rediss://")
    if (s.redis_tls_cert_file is None) != (s.redis_tls_key_file is None):
        out.append(f"{env_name('redis_tls_cert_file')} and {env_name('redis_tls_key_file')} go together")
    return out + _file_problems(tls_files)


def _archive_problems(s: Settings) -> list[str]:
    url_name = env_name("archive_url")
    if "://" not in s.archive_url:  # a libpq key=value connection string
        out_kv = []
        if re.search(r"(^|\s)password\s*=", s.archive_url):
            out_kv.append(f"{url_name} holds a password: put it in {env_name('archive_password')}")
        if problem := _secret_problem(env_name("archive_password"), s.archive_password):
            out_kv.append(problem)
        return out_kv
    try:
        u = urlsplit(s.archive_url)
        scheme, has_password = u.scheme, u.password is not None
    except ValueError as exc:
        return [f"{url_name} does not parse: {exc}"]
    out: list[str] = []
    if scheme not in ("postgresql", "postgres"):
        out.append(f"{url_name} should start with postgresql://, not {scheme}://")
    if has_password:
        out.append(
            f"{url_name} holds a password, which would show in logs and config maps: "
            f"put it in {env_name('archive_password')}"
        )
    if problem := _secret_problem(env_name("archive_password"), s.archive_password):
        out.append(problem)
    return out


def _timing_problems(s: Settings) -> list[str]:
    if s.heartbeat_interval_s >= s.session_timeout_s:
        return [
            f"{env_name('heartbeat_interval_s')}={s.heartbeat_interval_s} must be below "
            f"{env_name('session_timeout_s')}={s.session_timeout_s} (a group member would be dropped)"
        ]
    return []


def settings_problems(settings: Settings) -> list[str]:
    """Every reason these settings cannot work, one sentence each, naming the variable."""
    return (
        _kafka_problems(settings) + _redis_problems(settings) + _archive_problems(settings)
        + _timing_problems(settings)
    )  # fmt: skip


def require_workable(settings: Settings) -> Settings:
    """``settings`` if they can work, else :class:`SettingsError` listing every problem."""
    problems = settings_problems(settings)
    if problems:
        raise SettingsError(problems)
    return settings


def connection_summary(settings: Settings) -> str:
    """Where a service connects and how, for its start-up log line: never a secret."""
    sec = settings.kafka_security
    kafka = f"kafka {settings.bootstrap_servers} ({sec.protocol}"
    if sec.protocol.startswith("SASL"):
        kafka += f" {sec.sasl_mechanism} as {sec.sasl_username}"
    u = urlsplit(settings.redis_url)
    host = u.hostname or "?"
    redis = f"redis {u.scheme}://{host}{f':{u.port}' if u.port else ''}{u.path}"
    user = settings.redis_username or u.username
    redis += f" as {user}" if user else ""
    redis += " (TLS)" if u.scheme == "rediss" else ""
    a = urlsplit(settings.archive_url)
    archive = f"archive postgresql://{a.hostname or '?'}{f':{a.port}' if a.port else ''}{a.path}"
    return f"{kafka}), {redis}, {archive}"
