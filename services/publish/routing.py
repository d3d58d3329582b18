"""Routing rules: which sinks an enriched article goes to (pure logic).

Rules come from a YAML file (``services/publish/routing.yaml`` by default,
``NEWSFLOW_ROUTING_FILE`` to override); see that file for the format.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, field_validator

from shared.models import EnrichedArticle

from .enrichment import categories, countries
from .subscriptions import Subscription

__all__ = ["Route", "Router", "RoutingFile", "Target", "article_facts", "load_router", "load_routing", "topic_matches"]

_PLACEHOLDERS = {"language", "category", "country"}
_FACT_KEYS = {"language", "category", "category_code", "country", "source", "raw_format"}
_TOPIC_UNSAFE = re.compile(r"[^a-zA-Z0-9._-]+")


class Route(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    topic: str
    when: dict[str, list[str]] = {}
    format: Literal["newsflow", "ninjs"] = "newsflow"  # ninjs: an IPTC ninjs 2.1 item (publish/ninjs.py)

    @field_validator("topic")
    @classmethod
    def _known_placeholders(cls, v: str) -> str:
        names = {f for _, f, _, _ in string.Formatter().parse(v) if f}
        if len(names) > 1:
            raise ValueError(f"topic {v!r} uses more than one placeholder; use one per route")
        if unknown := names - _PLACEHOLDERS:
            raise ValueError(f"unknown placeholder(s) {sorted(unknown)} in topic {v!r}; use {sorted(_PLACEHOLDERS)}")
        return v

    @field_validator("when")
    @classmethod
    def _known_keys(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        if unknown := set(v) - _FACT_KEYS:
            raise ValueError(f"unknown condition(s) {sorted(unknown)}; use {sorted(_FACT_KEYS)}")
        return v


class RoutingFile(BaseModel):
    """The routing YAML: Kafka routes and the configured subscriptions (``services/publish/subscriptions.py``)."""

    model_config = ConfigDict(extra="forbid")
    routes: list[Route] = []
    subscriptions: list[Subscription] = []


@dataclass(frozen=True)
class Target:
    """One delivery: the route that chose it and the topic it goes to."""

    route: str
    topic: str
    format: str = "newsflow"

    @property
    def sink(self) -> str:
        return f"{self.route}/{self.topic}"


def _slug(value: str) -> str:
    return _TOPIC_UNSAFE.sub("-", value.strip().lower()).strip("-.") or "unknown"


def article_facts(article: EnrichedArticle) -> dict[str, list[str]]:
    """The values rules match on, read from the article and its enrichment.

    ``category`` is the top IPTC category as a slug of its name
    (``conflict-war-and-peace``), ``category_code`` its code
    (``medtop:16000000``); ``country`` every ISO 3166 code the article is about.
    """
    e = article.enrichment
    top = categories(e)[:1]
    return {
        "language": [e.language.code] if e.language and e.language.code else [],
        "category": [_slug(c.name) for c in top if c.name],
        "category_code": [c.code for c in top if c.code],
        "country": [c.code for c in countries(e) if c.code],
        "source": [article.source] if article.source else [],
        "raw_format": [article.raw_format],
    }


@dataclass
class Router:
    routes: list[Route] = field(default_factory=list)

    def route(self, article: EnrichedArticle) -> list[Target]:
        facts = article_facts(article)
        targets: list[Target] = []
        for r in self.routes:
            if any(not set(allowed) & set(facts.get(k, [])) for k, allowed in r.when.items()):
                continue
            names = [f for _, f, _, _ in string.Formatter().parse(r.topic) if f]
            if not names:
                targets.append(Target(r.name, r.topic, r.format))
                continue
            key = names[0]
            for value in dict.fromkeys(facts.get(key, [])):
                targets.append(Target(r.name, r.topic.format(**{key: _slug(value)}), r.format))
        return list(dict.fromkeys(targets))


def topic_matches(pattern: str, topic: str) -> bool:
    """Whether ``topic`` is one a route's topic pattern (``news.published.lang.{language}``) expands to."""
    parts = re.split(r"\{[a-z_]+\}", pattern)
    return re.fullmatch("[^.]+".join(map(re.escape, parts)), topic) is not None


def load_routing(path: Path | None = None) -> RoutingFile:
    """The routing file at ``path`` (YAML), or the one shipped with newsflow."""
    text = path.read_text() if path else files(__package__).joinpath("routing.yaml").read_text()
    return RoutingFile.model_validate(yaml.safe_load(text) or {"routes": []})


def load_router(path: Path | None = None) -> Router:
    """Rules from ``path`` (YAML), or the ones shipped with newsflow."""
    return Router(load_routing(path).routes)
