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

from shared.models import CategoryField, EnrichedArticle, GenreField, GenreItem

__all__ = ["NINJS_SCHEMA", "to_ninjs"]

NINJS_SCHEMA = "http://www.iptc.org/std/ninjs/ninjs-schema_2.1.json"
_MEDIATOPIC = "http://cv.iptc.org/newscodes/mediatopic/"
_GENRE = "http://cv.iptc.org/newscodes/genre/"


def _time(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _named(names: list[str], rel: str) -> list[dict[str, str]]:
    return [{"name": name, "rel": rel} for name in names if name]


def _subjects(category: CategoryField | None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for c in (category.value or []) if category else []:
        if not c.code.startswith("medtop:"):
            continue
        subject: dict[str, Any] = {"uri": _MEDIATOPIC + c.code.removeprefix("medtop:"), "literal": c.code}
        if c.name:
            subject["name"] = c.name
        subject["relevance"] = max(0, min(100, round(c.score * 100)))
        if category and category.method:
            subject["creator"] = f"newsflow/{category.method}"
        out.append(subject)
    return out


def _genres(genre: GenreField | None) -> list[dict[str, str]]:
    if genre is None:
        return []
    found = genre.value or ([GenreItem(code=genre.code, name=genre.name)] if genre.code or genre.name else [])
    out: list[dict[str, str]] = []
    for g in found:
        item: dict[str, str] = {}
        if g.name:
            item["name"] = g.name
        if g.code:
            item["literal"] = g.code
            item["uri"] = _GENRE + g.code.removeprefix("genre:")
        if item:
            out.append(item)
    return out


def to_ninjs(article: EnrichedArticle) -> dict[str, Any]:
    """The ninjs 2.1 item of ``article`` (a JSON-ready dict; keys without a value are left out)."""
    e = article.enrichment
    language = (e.language.code if e.language else None) or article.language
    word_count = e.word_count.value if e.word_count else None
    summary = e.summary.text if e.summary else None
    body: dict[str, Any] = {"role": "main", "contenttype": "text/plain", "value": article.body}
    body["charcount"] = len(article.body)
    if word_count is not None:
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
    if summary:
        item["descriptions"] = [{"role": "summary", "contenttype": "text/plain", "value": summary}]
    ents = e.entities
    people, organizations, named_places = (ents.people, ents.organizations, ents.places) if ents else (None,) * 3
    places = _named([p.name for p in named_places or []], "mentioned")
    known = {p["name"] for p in places}
    country_names = [c.name for c in (e.countries.value or [] if e.countries else [])]
    places += [p for p in _named(country_names, "country") if p["name"] not in known]
    lists = {
        "subjects": _subjects(e.category),
        "genres": _genres(e.genre),
        "people": _named([p.name for p in people or []], "mentioned"),
        "organisations": _named([o.name for o in organizations or []], "mentioned"),
        "places": places,
    }
    item.update({k: v for k, v in lists.items() if v})
    if article.authors:
        item["by"] = ", ".join(article.authors)
    dateline = e.dateline or article.dateline  # the enrichment's field when there is one, even a null one
    if dateline is not None and dateline.location:
        item["located"] = dateline.location
    source = article.source or (dateline.agency if dateline is not None else None)
    if source:
        item["infosources"] = [{"name": source, "role": "originator"}]
    if not item["headlines"]:
        del item["headlines"]
    return item
