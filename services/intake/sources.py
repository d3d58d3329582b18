"""Sources: what intake polls, from a YAML file or the HTTP API (pure: no I/O but reading a given file).

A source is ``{"id", "url", "kind", "interval_s", "language", "fetch_pages"}``: ``kind`` is ``auto`` (told by
the response: RSS, Atom, JSON Feed or a sitemap), ``rss``, ``atom``, ``jsonfeed``, ``sitemap`` or
``news-sitemap``; ``interval_s`` how often it is polled; ``language`` the language its articles are declared in
(optional); ``fetch_pages`` whether an entry with only a summary gets its page fetched.

The YAML file is a list of sources, or ``{"sources": [...]}``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

__all__ = ["Source", "SourceError", "load_sources", "parse_sources"]

SourceKind = Literal["auto", "rss", "atom", "jsonfeed", "sitemap", "news-sitemap"]
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


class SourceError(ValueError):
    """A source (or a sources file) that cannot be used, with the reason a person can act on."""


class Source(BaseModel):
    """One polled source."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    id: str
    """Stable name: letters, digits, '.', '_', '-' (at most 100)."""
    url: str
    """The feed or sitemap URL (http or https)."""
    kind: SourceKind = "auto"
    """What the URL serves; `auto` tells it from the response."""
    interval_s: int = Field(default=300, ge=30, le=7 * 24 * 3600)
    """Seconds between polls (30 s to 7 days)."""
    language: str | None = Field(default=None, pattern=r"^[a-z]{2}$")
    """ISO 639-1 language declared for its articles (a feed's own language is used when this is unset)."""
    fetch_pages: bool = True
    """Fetch the page of an entry that carries only a summary."""
    paused: bool = False
    """A paused source is kept but not polled."""

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("id must be 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit")
        return value

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        from urllib.parse import urlsplit

        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("url must be an http:// or https:// URL with a host")
        if parts.username or parts.password:
            raise ValueError("url must not carry credentials")
        return value.strip()


def _describe(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'source'}: {e['msg']}" for e in exc.errors())


def parse_sources(data: Any, *, origin: str = "sources") -> list[Source]:
    """Sources from already-parsed YAML/JSON: a list, or ``{"sources": [...]}``. Ids must be unique."""
    if isinstance(data, dict) and set(data) == {"sources"}:
        data = data["sources"]
    if data is None:
        return []
    if not isinstance(data, list):
        raise SourceError(f"{origin}: expected a list of sources (or {{'sources': [...]}}), got {type(data).__name__}")
    out: list[Source] = []
    seen: set[str] = set()
    for i, item in enumerate(data):
        try:
            source = Source.model_validate(item)
        except ValidationError as exc:
            raise SourceError(f"{origin}[{i}]: {_describe(exc)}") from None
        if source.id in seen:
            raise SourceError(f"{origin}[{i}]: duplicate id {source.id!r}")
        seen.add(source.id)
        out.append(source)
    return out


def load_sources(path: Path) -> list[Source]:
    """The sources of a YAML file (see the module doc)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SourceError(f"{path}: cannot read the sources file: {exc}") from None
    return parse_sources(data, origin=str(path))
