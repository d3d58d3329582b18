"""An enriched article as an IPTC ninjs 2.1 item (pure: no I/O).

The publish format ``ninjs`` (a route's ``format: ninjs``) writes this instead of newsflow's own
JSON. ninjs 2.1 is IPTC's "News in JSON" (http://www.iptc.org/std/ninjs/ninjs-schema_2.1.json);
the tests validate every item against that schema (``tests/schemas/ninjs-schema_2.1.json``).

Mapping:

- ``uri``: the article's own URI when it came as a ninjs item (``urn:newsml:...``), else
  ``urn:newsflow:article:<id>`` (the stable newsflow id); ``version`` the newsflow version;
  ``altids`` the newsflow id and the canonical URL;
- ``headlines`` (role ``main``), ``bodies`` (``text/plain``, with char and word counts),
  ``descriptions`` (the summary, role ``summary``);
- ``versioncreated``: when newsflow received this version; ``firstcreated`` / ``contentcreated``:
  the published date when known;
- ``subjects``: the IPTC Media Topic categories (``uri`` http://cv.iptc.org/newscodes/mediatopic/...,
  ``literal`` ``medtop:...``, relevance 0-100);
- ``people``, ``organisations``, ``places`` (entities, then the ISO 3166 countries): names;
- ``genres``: only when an enrichment field ``genre`` says so (none of the shipped enrichers
  guesses one); ``by``, ``located``, ``infosources`` from authors, dateline and source.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shared.models import EnrichedArticle

__all__ = ["NINJS_SCHEMA", "to_ninjs"]

NINJS_SCHEMA = "http://www.iptc.org/std/ninjs/ninjs-schema_2.1.json"
_MEDIATOPIC = "http://cv.iptc.org/newscodes/mediatopic/"
_GENRE = "http://cv.iptc.org/newscodes/genre/"


def _time(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _payload(enrichment: dict[str, Any], name: str) -> dict[str, Any]:
    value = enrichment.get(name)
    return value if isinstance(value, dict) else {}


def _items(payload: dict[str, Any], key: str = "value") -> list[dict[str, Any]]:
    value = payload.get(key)
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _named(items: list[dict[str, Any]], rel: str) -> list[dict[str, str]]:
    return [{"name": str(i["name"]), "rel": rel} for i in items if i.get("name")]


def _subjects(enrichment: dict[str, Any]) -> list[dict[str, Any]]:
    category = _payload(enrichment, "category")
    out: list[dict[str, Any]] = []
    for c in _items(category):
        code = str(c.get("code") or "")
        if not code.startswith("medtop:"):
            continue
        subject: dict[str, Any] = {"uri": _MEDIATOPIC + code.removeprefix("medtop:"), "literal": code}
        if c.get("name"):
            subject["name"] = str(c["name"])
        if isinstance(c.get("score"), int | float):
            subject["relevance"] = max(0, min(100, round(float(c["score"]) * 100)))
        if category.get("method"):
            subject["creator"] = f"newsflow/{category['method']}"
        out.append(subject)
    return out


def _genres(enrichment: dict[str, Any]) -> list[dict[str, str]]:
    genre = _payload(enrichment, "genre")
    found = _items(genre) or ([genre] if genre.get("code") or genre.get("name") else [])
    out: list[dict[str, str]] = []
    for g in found:
        item: dict[str, str] = {}
        if g.get("name"):
            item["name"] = str(g["name"])
        code = str(g.get("code") or "")
        if code:
            item["literal"] = code
            item["uri"] = _GENRE + code.removeprefix("genre:")
        if item:
            out.append(item)
    return out


def to_ninjs(article: EnrichedArticle) -> dict[str, Any]:
    """The ninjs 2.1 item of ``article`` (a JSON-ready dict; keys without a value are left out)."""
    e = article.enrichment
    language = _payload(e, "language").get("code") or article.language
    entities = _payload(e, "entities")
    word_count = _payload(e, "word_count").get("value")
    summary = _payload(e, "summary").get("text")
    body: dict[str, Any] = {"role": "main", "contenttype": "text/plain", "value": article.body}
    body["charcount"] = len(article.body)
    if isinstance(word_count, int):
        body["wordcount"] = word_count
    item: dict[str, Any] = {
        "uri": article.uri or f"urn:newsflow:article:{article.id}",
        "standard": {"name": "ninjs", "version": "2.1", "schema": NINJS_SCHEMA},
        "type": "text",
        "representationtype": "full",
        "version": str(article.version),
        "versioncreated": _time(article.ingested_at),
        "pubstatus": "usable",
        "headlines": [{"role": "main", "value": article.title}] if article.title else [],
        "bodies": [body],
        "altids": [{"role": "newsflow-id", "value": article.id}],
    }
    if article.canonical_url or article.url:
        item["altids"].append({"role": "url", "value": article.canonical_url or article.url})
    if article.published_at:
        item["firstcreated"] = item["contentcreated"] = _time(article.published_at)
    if language:
        item["language"] = str(language)
    if isinstance(summary, str) and summary:
        item["descriptions"] = [{"role": "summary", "contenttype": "text/plain", "value": summary}]
    places = _named(_items(entities, "places"), "mentioned")
    known = {p["name"] for p in places}
    places += [p for p in _named(_items(_payload(e, "countries")), "country") if p["name"] not in known]
    lists = {
        "subjects": _subjects(e),
        "genres": _genres(e),
        "people": _named(_items(entities, "people"), "mentioned"),
        "organisations": _named(_items(entities, "organizations"), "mentioned"),
        "places": places,
    }
    item.update({k: v for k, v in lists.items() if v})
    if article.authors:
        item["by"] = ", ".join(article.authors)
    dateline = _payload(e, "dateline") or (article.dateline.model_dump() if article.dateline else {})
    if dateline.get("location"):
        item["located"] = str(dateline["location"])
    source = article.source or dateline.get("agency")
    if source:
        item["infosources"] = [{"name": str(source), "role": "originator"}]
    if not item["headlines"]:
        del item["headlines"]
    return item
