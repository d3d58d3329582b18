"""Named entities: people, organisations, places and nationalities/groups, merged per article.

spaCy's NER gives mentions; this module turns them into entities a reader
expects:

- Mentions are cleaned: a leading article of the article's language ("the
  White House" -> "White House"; "El Fasher" keeps its "El" in English), a
  possessive ("NBC's" -> "NBC"), a courtesy or job title before a person
  ("President Joe Biden" -> "Joe Biden"; royal and papal titles stay: "Pope
  Francis") and a nationality before a name ("le Belge Remco Evenepoel")
  are removed; a person's mention as written with its titles, cut or
  written just before what NER named ("M. Paul Durand", "le général en chef
  Moreau"), is kept among its aliases, and a courtesy title alone ("MM.") is
  no name. A lowercase function word ending a name is cut ("Lisboa das").
- Noise is dropped: spans with no capital letter, digits, a lone portfolio
  word ("Defense" in "Defense Minister"), a name in quotation marks (a
  title: "Anora"). Dates and numbers are never requested (only PERSON/PER,
  ORG, GPE/LOC/FAC and NORP are kept).
- Retyping: a "person" that is really a country, capital or nationality
  ("Israels", a typo for Israel's) becomes a place or group, via the
  gazetteer; a "person" right after a noun such as "outlet", "newspaper" or
  "company" ("news outlet Axios") is an organisation; a two- or three-word
  place/organisation ending with a word NER tagged as a person's name
  elsewhere in the article is that person.
- People merge on the surname: "Kirby" after (or before) "John Kirby" is
  John Kirby; when a surname fits several people, the one mentioned most
  recently before it wins; a lone first name fitting one person ("Carlos"
  for Carlos Alcaraz) joins that person. A one-word place or organisation
  equal to a person's surname ("Macron" tagged as a place) is that person,
  unless it is a country or nationality.
- Organisations merge on their folded name and on acronyms ("National
  Security Council" / "NSC"); places and nationalities merge on the country
  they name ("US", "the United States": shown in English, "United States",
  whatever the article's language, with the article's forms as aliases).

Every rule here is named in :data:`RULES` and can be switched (``extract_entities(..., rules=...)``), so
that ``make bench-quality`` measures each one by leaving it out; :data:`RULES_OFF` lists those left out
by default in a language because they did not earn their place there (for English: the first-name,
acronym, quoted-title, demonym, "in <place>" and title rules, measured on CoNLL-2020 and CoNLL-2003 dev;
docs/enrichment/entities-en.md). Sign-offs and photo credits ("Reporting by ...", "REUTERS/Ana Ruiz/File
Photo") name people, a building is a place ("Kensington Palace") and a name ending in "Inc" or "Corp" an
organisation.

Each entity keeps its mention count and the offsets of its first mention
(``{"in": "title"|"body", "start", "end"}``, character offsets into
``article.title`` or ``article.body``). :attr:`Doc.entities
<services.enrich.analysis.doc.Doc.entities>` computes them once per article for
the entity, country, quote, keyword, summary and category fields.
"""

from __future__ import annotations

import functools
from bisect import bisect_left, bisect_right, insort
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from pathlib import Path

import regex
from spacy.tokens import Doc as SpacyDoc
from spacy.tokens import Span, Token

from shared.textfold import fold_name as fold

from .gazetteer import Gazetteer, get_gazetteer
from .lexicon import SortedWords, common_nouns
from .nlp import ModelInfo
from .rarity import RARE_ZIPF, rarity, rarity_table
from .sentences import doc_text

__all__ = [
    "ENTITY_TYPES", "RULES", "RULES_OFF", "RULES_OFF_EVERYWHERE", "RULES_ON", "Entity", "default_rules", "doc_ents",
    "extract_entities", "method_of",
]  # fmt: skip

MERGE_VERSION = "1"
#: The entity rules by name, each one a switch of :func:`extract_entities` (``rules=``), so that
#: ``make bench-quality`` can leave one out at a time. What each does:
RULES: dict[str, str] = {
    "tables": "results-table rows: names cut at their figures, competitors NER left out, teams by their figures",
    "lineups": 'team line-ups ("7 - Ana Ruiz, 8 - ...") read as people',
    "datelines": 'dateline places ("ROUEN 2025-03-14", "MUNICH, May 31 -") read as places',
    "capitals": "names on capitals-only lines kept only when the rest of the article or the gazetteer confirms them",
    "breaks": "a name cut at brackets and at a spaced dash",
    "first_names": 'a person NER cut short joined to the first name before it ("Sandrine" + "Testud")',
    "brackets": "a name before a country or minute in brackets, ranked or listed among people so, is a person",
    "quoted_titles": 'a name hugged by quotation marks is a title ("Anora"), not a person or company',
    "titles": 'courtesy and job titles cut from a person ("President Joe Biden" -> "Joe Biden")',
    "demonyms": 'a nationality cut from a person ("Spaniard Carlos Alcaraz")',
    "initials": 'an initial and a surname is a person ("P. Simmons")',
    "figures": 'a score or result cut from a name in running text ("Real Madrid 1", "Boston 5-3")',
    "portfolios": 'a lone portfolio word is no entity ("Defense" of "Defense Minister")',
    "org_cues": 'organisation cues: "news outlet Axios", "Interfax news agency", "Indian Railways", "LSEG"',
    "gazetteer_types": "a person or organisation the gazetteer knows as a country, capital or nationality is retyped",
    "events": 'a sporting event is no entity ("Lisbon Open", "Fed Cup")',
    "split_org": 'an organisation cut before "in <place>"',
    "teams": 'clubs named after places ("Leicestershire beat Somerset")',
    "person_votes": "a place or organisation ending with a person's surname is that person",
    "short_forms": 'an organisation named short ("Harwell" for "Harwell Instruments Corp")',
    "surnames": 'a one-word place or organisation equal to a person\'s surname is that person ("Macron")',
    "acronyms": 'an acronym joins the organisation it abbreviates ("NSC")',
    "credits": 'people of sign-offs and photo credits ("Reporting by Ana Ruiz; Editing by ...", "REUTERS/Ana Ruiz")',
    "facilities": 'an organisation named as a building or site is a place ("Kensington Palace", "Euston Station")',
    "company_suffixes": 'a person or place ending in "Inc", "Corp", "Ltd"... is an organisation',
    "media": 'a news agency, paper or broadcaster named as such is an organisation ("( AP / dpa )", "De Standaard")',
    "stopwords": 'a one-word name that is a function word of the language is no entity ("Según", "Además")',
    "acronym_orgs": 'an acronym NER left out, in running text, is an organisation ("UPC", "ULFA"; not "TV" or "XIV")',
    "institutions": 'a government, parliament or police named by its common noun is no person or place ("Gobierno")',
    "known_places": 'a country or capital the gazetteer knows, NER left out, is a place ("Frankreich", "Madrid")',
    "genitives": 'in German, a country or city the gazetteer knows, NER left out, in the genitive ("Japans")',
    "qualifiers": 'in German, a place keeps its abbreviated river or region ("Frankfurt a. M.", "Freiburg i. Br.")',
    "common_nouns": 'in German, a one-word place that Wiktionary lists only as a common noun is none ("Saison")',
    "compounds": 'in German and Dutch, an acronym and a noun in one word name the acronym ("CDU-Politiker" -> "CDU")',
    "named_pairs": 'a known first name and a capitalised word NER left out are a person ("Hans Keller" on a byline)',
    "conjoined": 'two places NER named as one across "and" ("Lyon et Grenoble") are two, unless known whole',
    "type_votes": "a name typed a place in some mentions and an organisation in others is what most say",
    "inhabitants": 'a one-word place that is another place plus an inhabitants\' ending is a group ("Genevois")',
    "dangling": 'a lowercase function word ending a name is cut from it ("Lisboa das", a headline run into its text)',
    "inner_words": 'a name NER ran across a lower-case word is cut there ("MONEY 1 O escritor Clive Cussler")',
    "org_of_org": 'an organisation "of" an organisation is one ("Conselho de Segurança da ONU")',
    "org_and_of": 'an organisation "of" one thing "and of" another is one ("Câmara da Indústria e do Comércio")',
    "caps_names": 'people written in capitals on a by-line or in running text ("ANA RUIZ", "par PAUL ROUX, ...")',
}
#: Rules left out by default in a language, where measurement showed they do not earn their place: for
#: English, each of these lowers micro F1 on CoNLL-2020 dev (modern Reuters) or changes nothing there and
#: lowers CoNLL-2003 dev (``make bench-quality``'s rules table; docs/enrichment/entities-en.md). Other languages
#: keep every rule of :data:`RULES_ON` until measured.
RULES_OFF: dict[str, frozenset[str]] = {
    "en": frozenset(
        {"acronyms", "acronym_orgs", "first_names", "quoted_titles", "demonyms", "split_org", "titles", "org_of_org"}
    ),
}
#: Rules off in every language: ``first_names`` and ``acronyms`` lower micro F1 in English (above) and, left
#: out, raise it or leave it unchanged on each news set of the seven other languages (docs/enrichment/
#: languages.md: ``first_names`` +0.037 / +0.035 on the two German sets, +0.007 it, +0.005 ar, +0.002 es and
#: nl, 0 fr and pt; ``acronyms`` +0.005 es, +0.002 nl and pt, +0.001 on both German sets, fr and it, 0 ar).
RULES_OFF_EVERYWHERE: frozenset[str] = frozenset({"first_names", "acronyms"})
#: The rules on by default in a language without its own :data:`RULES_OFF`.
RULES_ON: frozenset[str] = frozenset(RULES) - RULES_OFF_EVERYWHERE


def default_rules(lang: str) -> frozenset[str]:
    """The rules :func:`extract_entities` applies to a document in ``lang`` unless told otherwise."""
    return RULES_ON - RULES_OFF.get(lang, frozenset())


#: Output group of each entity type, in output order.
ENTITY_TYPES = {"person": "people", "organization": "organizations", "place": "places", "group": "groups"}
_TYPE_BY_LABEL = {
    "PERSON": "person",
    "PER": "person",
    "ORG": "organization",
    "MEDIA": "organization",  # rule "media": a listed agency or paper, written as listed ("dpa", "taz")
    "GENITIVE": "place",  # rule "genitives": a place in the genitive ("Japans"), whatever else the word means
    "GPE": "place",
    "LOC": "place",
    "FAC": "place",
    "NORP": "group",
    "MISC": "misc",  # WikiNER models (fr, es, ...): kept only when it is a nationality
}
# Leading articles stripped from names, per language (only the article's own: "El Fasher" keeps its "El").
_DETERMINERS = {
    "en": frozenset({"the"}),
    "fr": frozenset({"le", "la", "les", "l'", "l’"}),
    "es": frozenset({"el", "la", "los", "las", "lo"}),
    "de": frozenset({"der", "die", "das", "den", "dem"}),
    "it": frozenset({"il", "lo", "la", "i", "gli", "le", "l'", "l’"}),
    "pt": frozenset({"o", "a", "os", "as"}),
}
_QUOTE_MARKS = frozenset('"“”«»„')
_POSSESSIVES = frozenset({"'s", "’s", "'", "’"})
_TITLES = frozenset(
    """
    president vice prime minister mr mr. mrs mrs. ms ms. dr dr. sir dame gen gen. general senator sen sen.
    rep rep. secretary spokesman spokeswoman spokesperson chancellor judge
    justice ceo chief coach captain lord lady governor gov gov. mayor ambassador sheikh emir crown
    m. mm. mme mme. mmes mlle mlle. monsieur messieurs madame président présidente ministre premier sr sr. sra sra.
    señor señora don doña
    presidente ministro ministra general lt colonel col col. commander adm admiral director professor prof
    prof. chairman chairwoman manager speaker attorney deputy
    """.split()
)
_TITLE_WORDS = frozenset(t.rstrip(".") for t in _TITLES)
#: courtesy titles, which never name anyone alone ("MM." of "MM. X et Y" cut off by NER)
_COURTESY = frozenset({"m", "mm", "mme", "mmes", "mlle", "mr", "mrs", "ms", "dr", "sr", "sra"})
#: Ranks, offices and nobility written before a person's name ("le général X", "il presidente X", "König X"):
#: the mention with them is kept as an alias; the name is never cut at them (only :data:`_TITLES` are).
_RANKS = frozenset(
    """
    général générale amiral maréchal colonel capitaine lieutenant commandant sergent caporal comte comtesse
    baron baronne duc duchesse marquis marquise vicomte prince princesse roi reine empereur impératrice pape
    cardinal abbé évêque archevêque pasteur curé docteur professeur conseiller conseillère député députée
    sénateur sénatrice maire juge chancelier chancelière ambassadeur ambassadrice consul secrétaire gouverneur
    rey reina príncipe princesa coronel capitán alcalde alcaldesa juez jueza papa doctor doctora canciller
    senador senadora gobernador gobernadora diputado diputada obispo cardenal
    re regina principe principessa generale colonnello capitano sindaco giudice dottor dottoressa onorevole
    cancelliere senatore senatrice governatore deputato deputata vescovo cardinale
    rei rainha princesa coronel capitão prefeito prefeita juiz juíza doutor doutora deputado deputada
    chanceler lorde governador governadora vereador vereadora bispo cardeal
    könig königin prinz prinzessin präsident präsidentin kanzler kanzlerin minister ministerin
    bürgermeister bürgermeisterin papst bundeskanzler bundeskanzlerin ministerpräsident ministerpräsidentin
    bischof kardinal
    koning koningin prins prinses generaal premier burgemeester paus gouverneur bisschop kardinaal
    """.split()
)
_TITLE_LINKS = frozenset({("en", "chef"), ("fédéral",), ("fédérale",)})  # "général en chef X", "conseiller fédéral X"
_PORTFOLIOS = frozenset(
    """
    defense defence foreign finance interior health justice economy trade education energy transport
    labour labor agriculture environment culture security state treasury home cabinet war national
    """.split()
)
# Institutions a sentence names by their common noun, capitalised ("el Gobierno", "la Polizia", "the
# Government"): an organisation, never a person or a place, whatever NER said.
_INSTITUTIONS = frozenset(
    """
    government parliament congress senate army police cabinet
    gobierno ejecutivo congreso senado parlamento ejército policía fiscalía ayuntamiento
    governo parlamento senato esercito polizia procura carabinieri
    polícia exército câmara assembleia
    gouvernement parlement sénat armée police
    regering parlement kabinet politie leger justitie
    regierung bundesregierung parlament bundestag bundesrat polizei bundeswehr armee staatsanwaltschaft
    """.split()
)
# Gazetteer kinds that make an ORG-tagged name a place (OntoNotes puts "Beijing said" in GPE too).
_PLACE_KINDS = frozenset({"country", "capital", "city", "state", "nation"})
# A capitalised name right after one of these nouns is an organisation, whatever NER said
# ("news outlet Axios", "the broadcaster Sky").
_ORG_CUES = frozenset(
    """
    outlet newspaper broadcaster agency network channel website site daily weekly magazine company firm
    group carrier airline bank maker manufacturer retailer startup start-up app platform club team label
    studio publisher insurer lender operator brand chain party union journal tabloid
    """.split()
)
# Last words that make a "person" an organisation ("Indian Railways", "Reform Party").
_ORG_HEADS = frozenset(
    """
    railways railway airlines airline airways bank group association agency ministry council university
    institute corporation corp inc ltd plc company party union committee commission authority foundation
    federation league club museum hospital department services
    co spa ag sa nv gmbh ab asa bhd holdings industries enterprises securities insurance motors systems
    technologies communications telecom cement chemicals petroleum mining pharmaceuticals electronics cables
    times post herald tribune telegraph gazette standard observer
    """.split()
)
# Last words of a sporting event's name ("Lisbon Open", "Fed Cup", "Atlanta Games").
_EVENTS = frozenset("open championship championships cup masters classic games prix".split())
# Nouns after a name that make it an organisation ("Interfax news agency", "the Jakarta Post newspaper").
_ORG_CUES_AFTER = frozenset("agency newspaper daily weekly magazine broadcaster newsletter".split())
# Words a results table writes before its figures that are not a competitor ("Total 296", "Attendance 200").
_TABLE_WORDS = frozenset(
    """
    total totals extras attendance halftime half-time points pts score scores result results standings note
    bowling batting round week day game games match race stage heat final semifinal quarterfinal leg lap top
    overall men women change close open high low vol volume average index prev previous net
    """.split()
)
# Verbs of a sporting result: a city or county next to one is a club ("Leicestershire beat Somerset").
_RESULT_WORDS = frozenset("beat beats beaten defeated defeats drew draws v v. vs vs. versus thrashed edged".split())
# A player's role after a club's name: a city or county before one is the club ("Norwich striker Ana Ruiz").
_CLUB_ROLES = frozenset(
    """
    striker strikers forward forwards midfielder midfielders defender defenders goalkeeper goalkeepers winger
    wingers skipper all-rounder batsman batsmen bowler bowlers opener quarterback pitcher pitchers outfielder
    shortstop fullback flanker prop lock hooker playmaker teammate team-mate teammates team-mates captain coach
    manager side team
    """.split()
)
_DIGIT = regex.compile(r"\d")
_OPEN = regex.compile(r"\(")
_BRACKETS = frozenset("()[]")
_VERSUS = frozenset({"v", "v.", "vs", "vs."})
_ZONES = frozenset("GMT UTC BST CET CEST EST EDT CST CDT PST PDT ET PT".split())
_LOCATIVES = frozenset("in at near from outside across".split())
_DATE = regex.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATES = regex.compile(r"\b(?:\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{2,4})\b")
_NUMBER = regex.compile(r"^[+-]?[\d.,:/-]*\d[\d.,:/-]*$")  # "83", "4-38", "1/2", ".556", "5,616.21"
_SCORE = regex.compile(r"^(?:\d{1,3}|\d{1,3}-\d{1,3}|\.\d{3}|\d/\d)$")  # a score, a tally, a percentage
_RESULT = regex.compile(r"^\d{1,3} ?- ?\d{1,3}$")  # "5-3"
_MINUTE = regex.compile(r"^\d{1,3}(?:st|nd|rd|th)?(?: (?:minute|min|pen|penalty))?$")
_FIGURE = regex.compile(r"^\d+(?:st|nd|rd|th)?$")  # a score or minute after a name in running text
_INITIAL = regex.compile(r"^\p{Lu}\.$")  # "P." in "P. Simmons"
# A team line-up: "7 - Ana Ruiz," items, and a substitute in brackets with a minute ("(Ana Ruiz, 70)").
_PARTICLES = r"(?:de|da|di|del|della|der|den|van|von|le|la|du|dos|das|ter)"  # "Luis de la Vega"
_LINEUP_NAME = r"\p{Lu}[\p{L}'’.-]*(?: (?:" + _PARTICLES + r" )*\p{Lu}[\p{L}'’.-]*){0,3}"
_LINEUP_HINT = regex.compile(r"\d ?- ?\p{Lu}")
_LINEUP_ITEM = regex.compile(
    r"(?<![\w.,-])\d{1,2} ?- ?(?P<name>" + _LINEUP_NAME + r")(?=\s*(?:[,;()]|\d{1,3}(?:st|nd|rd|th)\b|\.?\s*$))"
)
# A line-up written as the formation, without shirt numbers: six names or more between dashes, commas and
# semicolons, the substitutes in brackets with their minute ("Golz - Rohde - Kober , Hartmann ( 73. Eck ) ,
# Spies - Bester ." in German copy; "Casillas; Salgado, Hierro - Raúl (80 Morientes)").
_FORMATION_NAME = _LINEUP_NAME
_FORMATION_ITEM = (
    _FORMATION_NAME + r"(?:\s*\(\s*(?:\d{1,3}\.?\s*)?" + _FORMATION_NAME + r"(?:\s*,?\s*\d{1,3}\.?)?\s*\))?"
)
_FORMATION = regex.compile(
    r"^(?:[^:\n]{2,40}?\s*:\s*)?(?P<body>"
    + _FORMATION_ITEM
    + r"(?:\s*[-–,;]\s*"
    + _FORMATION_ITEM
    + r"){5,})\s*\.?\s*$"
)
_FORMATION_WORD = regex.compile(_FORMATION_NAME)
_LINEUP_SUB = regex.compile(r"\((?P<name>" + _LINEUP_NAME + r"),? \d{1,3}(?:st|nd|rd|th)?(?: mins?)?\)")
# A sign-off's roles ("Reporting by Ana Ruiz and Tom Okafor in Oslo; Editing by Sam Reid") and a photo
# credit's words ("REUTERS/Ana Ruiz/File Photo", "Ana Ruiz/Pool via REUTERS"): the names there are people.
_CREDIT_ROLE = regex.compile(
    r"\b(?:[Rr]eporting|[Ww]riting|[Ee]diting|[Cc]ompiled|[Ww]ritten|[Pp]hotos?|[Gg]raphics?) by\s+"
)
_CREDIT_STOP = r"(?!(?:Reporting|Writing|Editing|Additional|Compiled|Written|Photo|Photos|Via|File|Files|Pool|Handout|Illustration|REUTERS|Reuters)\b)"  # noqa: E501
_CREDIT_WORD = _CREDIT_STOP + r"\p{Lu}[\p{L}'’.-]*"
_CREDIT_NAME = regex.compile(_CREDIT_WORD + r"(?: (?:" + _PARTICLES + r" )*" + _CREDIT_WORD + r"){1,3}(?![\p{L}'’-])")
_CREDIT_JOIN = regex.compile(r"(?:,| and| &)\s+")
_AGENCY_CREDIT = regex.compile(
    r"\b(?:REUTERS|Reuters|AFP|AP|EPA|Getty Images|Bloomberg)\s*/|\bvia (?:REUTERS|Reuters|AFP)\b"
)
_CREDIT_PIECE = regex.compile(r"\s*(?P<name>[^/]*?)\s*(?:/|$)")
_FACILITIES = frozenset("palace station street square airport stadium circuit bridge cathedral church tower".split())
_COMPANY_SUFFIXES = frozenset("inc corp ltd plc llc co ag sa nv gmbh spa bhd".split())
_STOP_INITIALS = frozenset({"of", "the", "and", "for", "de", "du", "des", "la", "le", "del", "y", "et", "&", "on"})


@dataclass
class Entity:
    """One entity of an article: its name, every mention, where it first appears."""

    type: str  # person | organization | place | group
    name: str
    key: str
    spans: list[tuple[int, int]] = dc_field(default_factory=list)  # offsets into Doc.text
    surfaces: list[str] = dc_field(default_factory=list)
    country: str | None = None
    written: list[str] = dc_field(default_factory=list)  # mentions as written with the title cut ("M. Ador")
    _starts: list[int] = dc_field(default_factory=list, repr=False)  # mention starts, sorted
    _folded: list[str] = dc_field(default_factory=list, repr=False, compare=False)  # folded_tokens of _folded_name
    _folded_name: str | None = dc_field(default=None, repr=False, compare=False)

    def add(self, start: int, end: int, surface: str, written: str | None = None) -> None:
        """One more mention (kept so that :meth:`last_before` and :attr:`first` cost no scan); ``written``:
        the mention as the article wrote it, when a title was cut from it."""
        self.spans.append((start, end))
        self.surfaces.append(surface)
        if written:
            self.written.append(written)
        insort(self._starts, start)

    @property
    def forms(self) -> set[str]:
        """Every name it goes by: its name, its surface forms and its titled forms (the field's aliases)."""
        return {self.name, *self.surfaces, *self.written}

    def absorb(self, other: Entity) -> None:
        """Every mention of ``other`` (merged into this entity)."""
        for (start, end), surface in zip(other.spans, other.surfaces, strict=True):
            self.add(start, end, surface)
        self.written.extend(other.written)

    def last_before(self, at: int) -> int:
        """The start of the last mention before offset ``at`` (-1 when none)."""
        i = bisect_left(self._starts, at)
        return self._starts[i - 1] if i else -1

    @property
    def mentions(self) -> int:
        return len(self.spans)

    @property
    def first(self) -> tuple[int, int]:
        return min(self.spans)

    @property
    def tokens(self) -> list[str]:
        return self.name.split()

    @property
    def folded_tokens(self) -> list[str]:
        """``fold`` of each word of the name (as many as :attr:`tokens`), computed again only when the name changes:
        the surname rules read them for every one-word mention."""
        if self._folded_name != self.name:
            self._folded = [fold(t) for t in self.name.split()]
            self._folded_name = self.name
        return self._folded


@dataclass
class _Mention:
    type: str
    text: str
    start: int
    end: int
    result_verb: bool = False  # directly next to "beat", "v", "drew"... or before "striker": a competitor
    locative: bool = False  # "in Chicago", "at DETROIT", "MADRID 1996-08-30": the place, not its club
    team: bool = False  # a competitor on a results-table row
    caps: bool = False  # on an all-capitals line (a headline, a table heading): see _confirm_capitals
    written: str | None = None  # a person's mention as written, when a title was cut from it ("Mme Dupont")


_BREAK = regex.compile(r"\n")
_ENTS_KEY = "newsflow.ents"


def doc_ents(sdoc: SpacyDoc) -> tuple[Span, ...]:
    """``sdoc.ents``, built once per document (spaCy builds the tuple of spans again on each read; the entity
    rules and the key phrases read it several times; nothing sets a parsed doc's entities again)."""
    ents = sdoc.user_data.get(_ENTS_KEY)
    if not isinstance(ents, tuple):
        ents = sdoc.user_data[_ENTS_KEY] = tuple(sdoc.ents)
    return ents


def _newline_tokens(sdoc: SpacyDoc) -> list[int]:
    """The indices of the whitespace tokens that hold a line break, in order: found from the text's line
    breaks and the tokens' character offsets, without walking every token in Python."""
    text = doc_text(sdoc)
    breaks = [m.start() for m in _BREAK.finditer(text)]
    if not breaks:
        return []
    starts = sdoc.to_array("IDX").tolist()
    found: list[int] = []
    for at in breaks:
        i = bisect_right(starts, at) - 1
        if i >= 0 and (not found or found[-1] != i) and sdoc[i].is_space:
            found.append(i)
    return found


def method_of(info: ModelInfo) -> tuple[str, str]:
    """The ``method`` and ``version`` strings for fields built on this model's NER."""
    return f"spacy-ner:{info.name}", f"{info.version}/merge-{MERGE_VERSION}"


def extract_entities(
    sdoc: SpacyDoc, gazetteer: Gazetteer | None = None, lang: str = "en", rules: Collection[str] | None = None
) -> list[Entity]:
    """Merged entities of a parsed document, most mentioned first (ties: first seen first). ``rules``: the
    names of :data:`RULES` to apply (default: :func:`default_rules` of ``lang``); an unknown name is a
    ``ValueError``."""
    on = default_rules(lang) if rules is None else frozenset(rules)
    if not on <= RULES.keys():
        raise ValueError(f"unknown entity rules: {sorted(on - RULES.keys())}")
    gaz = gazetteer or get_gazetteer()
    determiners = _DETERMINERS.get(lang, frozenset())
    rows, caps = _line_kinds(sdoc)
    if "tables" not in on:
        rows = _LineFlags(sdoc, [])
    if "capitals" not in on:
        caps = _LineFlags(sdoc, [])
    runs, used = _competitor_runs(sdoc, rows), set[tuple[int, int]]()
    qualifier = _PLACE_QUALIFIERS.get(lang) if "qualifiers" in on else None
    datelines = _dateline_places(sdoc, qualifier) if "datelines" in on else []
    placed = {(e.start, e.end) for e in doc_ents(sdoc) if e.label_ in ("GPE", "LOC")}
    # these replace what NER made of their words (a place NER found as such stays NER's)
    lineups = _lineup_people(sdoc) if "lineups" in on else []
    credits, credit_lines = _credit_people(sdoc) if "credits" in on else ([], _LineFlags(sdoc, []))
    media = _media_orgs(sdoc) if "media" in on else []
    language_stops = stop_words(lang)
    capitals = _capital_people(sdoc, gaz, language_stops) if "caps_names" in on else []
    fixed = _unoverlapped(
        [span for span in datelines if (span.start, span.end) not in placed] + lineups + credits + media + capitals
    )
    taken = {i for span in fixed for i in range(span.start, span.end)}
    spans = [
        part
        for ent in doc_ents(sdoc)
        if ent.label_ in _TYPE_BY_LABEL and taken.isdisjoint(range(ent.start, ent.end))
        for cut in (_split_at_slashes(ent) if "credits" in on and credit_lines[ent.start] else [ent])
        for joined in (_split_at_breaks(cut) if "breaks" in on else [cut])
        for piece in (_split_conjoined(joined, gaz) if "conjoined" in on else [joined])
        for inner in (_split_at_lowercase(piece, language_stops) if "inner_words" in on else [piece])
        for part in (_split_at_numbers(inner, runs, used) if rows[inner.start] else [inner])
    ]
    if "first_names" in on:
        spans = _join_first_names(spans, gaz)
    if "org_of_org" in on:
        spans = _join_org_of_org(spans)
    if "genitives" in on and lang in _GENITIVE_S:  # NER's own "Chinas", "Indiens": the place in the genitive
        spans = [
            Span(sp.doc, sp.start, sp.end, label="GENITIVE")
            if len(sp) == 1 and sp.label_ in ("LOC", "GPE", "MISC") and _genitive_of_place(sp.text, gaz)
            else sp
            for sp in spans
        ]
    if "org_and_of" in on:
        spans = _extend_org_and_of(spans)
    spans = spans + _unlabelled_competitors(sdoc, rows, brackets="brackets" in on) + fixed
    if qualifier is not None:
        spans = _qualified_places(sdoc, spans, qualifier)
    if on & {"named_pairs", "acronym_orgs", "known_places", "genitives"}:  # names NER left out, in no span so far
        covered = _covered(sdoc, spans)
        if "named_pairs" in on:
            spans += _named_pairs(sdoc, covered, gaz, language_stops)
        if "acronym_orgs" in on:
            spans += _acronym_orgs(sdoc, covered, gaz, language_stops, rows, caps)
        if "known_places" in on:
            spans += _known_places(sdoc, covered, gaz, language_stops, lang)
        if "genitives" in on and lang in _GENITIVE_S:
            spans += _genitive_places(sdoc, covered, gaz, language_stops)
    words = rarity_table(lang) if "compounds" in on and lang in _COMPOUNDING else None
    mentions = [m for ent in spans for m in _clean(ent, gaz, determiners, rows, caps, on, language_stops, words)]
    if "inhabitants" in on and (endings := _INHABITANT_ENDINGS.get(lang)):
        _inhabitants(mentions, endings, gaz)
    if "common_nouns" in on and (nouns := common_nouns(lang)) is not None:
        genitive = "genitives" in on and lang in _GENITIVE_S
        mentions = [m for m in mentions if not _common_noun_place(m, nouns, gaz, genitive)]
    if "datelines" in on:
        _place_datelines(mentions, {span.start_char for span in datelines})
    if capitals:  # a name in capitals that the rule read as a person needs no confirmation
        starts = {span.start_char for span in capitals}
        for m in mentions:
            m.caps = m.caps and m.start not in starts
    mentions = _confirm_capitals(mentions, gaz)
    if "person_votes" in on:
        _vote_person_types(mentions, gaz)
    if "short_forms" in on:
        _vote_short_forms(mentions, gaz)
    if "teams" in on:
        _vote_teams(mentions, gaz)
    if "type_votes" in on:
        _vote_types(mentions)
    people = _merge_people([m for m in mentions if m.type == "person"])
    others: dict[tuple[str, str], Entity] = {}
    places = [(m.text, r) for m in mentions if m.type in ("place", "group") and (r := gaz.resolve(m.text))]
    for m in mentions:
        if m.type == "person":
            continue
        if " " not in m.text and "surnames" in on:
            person = _surname_owner(m.text, people, m.start)
            res = gaz.resolve(m.text)
            if person is not None and (res is None or res.kind in ("city", "state")):
                person.add(m.start, m.end, m.text)
                continue
        res = gaz.resolve(m.text) if m.type in ("place", "group") else None
        if res is not None:
            res = gaz.in_context(m.text, res, places)
        key = f"cc:{res.code}" if res and res.kind in ("country", "demonym") else fold(m.text)
        ent = others.get((m.type, key))
        if ent is None:
            ent = others[(m.type, key)] = Entity(m.type, m.text, key, country=res.code if res else None)
        ent.add(m.start, m.end, m.text)
    orgs = [e for e in others.values() if e.type == "organization"]
    if "acronyms" in on:
        orgs = _merge_acronyms(orgs)
    result = people + orgs + [e for e in others.values() if e.type in ("place", "group")]
    for ent in result:
        if ent.key.startswith("cc:") and ent.type == "place":
            ent.name = gaz.country_name(ent.country or ent.key[3:])
        elif ent.type == "organization":
            ent.name = max(ent.surfaces, key=len)  # the spelled-out name over its acronym
        elif ent.type != "person":
            ent.name = _canonical_surface(ent)
    result.sort(key=lambda e: (-e.mentions, e.first))
    return result


def _clean(
    ent: Span,
    gaz: Gazetteer,
    determiners: frozenset[str],
    rows: Sequence[bool] | _LineFlags = (),
    caps: Sequence[bool] | _LineFlags = (),
    rules: Collection[str] = RULES,
    stops: frozenset[str] = frozenset(),
    words: dict[str, float] | None = None,
) -> list[_Mention]:
    """The entity as a mention with article, possessive and titles stripped, retyped or dropped as noise
    (no mention); two when an organisation ends with a place (see :func:`_split_org`). ``rows`` flags the
    tokens on results-table lines (:func:`_table_rows`): there, figures glued to a name are cut off and a
    name followed by figures is a competitor (see :func:`_competitor_type`). ``stops``: the language's
    function words; a name of one such word, capitalised, is dropped (rule ``stopwords``), and one ending a
    name in lower case is cut from it (rule ``dangling``). ``words``: the
    language's word rarities (:func:`~.rarity.rarity_table`, rule ``compounds``)."""
    etype = _TYPE_BY_LABEL.get(ent.label_)
    if etype is None:
        return []
    doc = ent.doc
    # A name wrapped in quotation marks is a title ("Anora", "Barbie"), not a person or company. The marks
    # hug the name: in `...," Hartmut Neven, founder of ...` the mark before the name closes a quote.
    if (
        "quoted_titles" in rules
        and etype in ("person", "organization")
        and ent.start > 0
        and ent.end < len(doc)
        and doc[ent.start - 1].text in _QUOTE_MARKS
        and not doc[ent.start - 1].whitespace_
        and doc[ent.end].text in _QUOTE_MARKS | {","}
        and not doc[ent.end - 1].whitespace_
    ):
        return []
    tokens = list(ent)
    # "GMT - Friedrich Merz" (a live-update time stamp), "ATHLETICS - RESULTS" (a wire slug)
    for k in range(min(len(tokens) - 1, 3)):
        if tokens[k].text in ("-", "–", "—") and all(t.text in _ZONES or t.is_upper or t.like_num for t in tokens[:k]):
            tokens = tokens[k + 1 :]
            break
    listed = ent.label_ == "MEDIA"  # a listed paper keeps its article ("Der Spiegel", "De Standaard")
    while tokens and ((tokens[0].lower_ in determiners and not listed) or tokens[0].is_punct or tokens[0].is_space):
        tokens.pop(0)
    while tokens and (
        tokens[-1].text in _POSSESSIVES or tokens[-1].is_punct or tokens[-1].is_space or tokens[-1].lower_ in _VERSUS
    ):
        tokens.pop()
    if "dangling" in rules:  # "Lisboa das": a headline run into the sentence after it; no name ends so
        while len(tokens) > 1 and tokens[-1].is_lower and tokens[-1].lower_ in stops:
            tokens.pop()
    if "the" in determiners:  # English names end in a capitalised word: "Interfax news agency" is Interfax
        while len(tokens) > 1 and tokens[-1].is_lower and tokens[-1].is_alpha:
            tokens.pop()
    in_table = bool(tokens) and len(rows) > tokens[0].i and rows[tokens[0].i]
    if in_table:  # "Leicestershire 296", "Drayle 5": NER glued the score to the name
        while tokens and (_NUMBER.match(tokens[-1].text) or tokens[-1].is_punct):
            tokens.pop()
        while tokens and (_NUMBER.match(tokens[0].text) or tokens[0].is_punct):
            tokens.pop(0)
    elif "figures" in rules:  # "Real Madrid 1 (...)", "Roberto Carlos 79th": a figure after a name of two words+
        while len(tokens) > 2 and _FIGURE.match(tokens[-1].text) and tokens[-2].text[:1].isupper():
            tokens.pop()
        name_end = max((k for k, t in enumerate(tokens) if t.text[:1].isupper()), default=-1)
        if 0 <= name_end < len(tokens) - 1 and _RESULT.match(doc[tokens[name_end + 1].i : tokens[-1].i + 1].text):
            tokens = tokens[: name_end + 1]  # "Boston 5-3": a result after the name
    if (
        "initials" in rules
        and len(tokens) >= 2
        and _INITIAL.match(tokens[0].text)
        and tokens[-1].text[:1].isupper()
        and (etype != "place" or in_table)
    ):
        etype = "person"  # "H. Morris", "P. Simmons": an initial and a surname (not "N. Korea", a place)
    titled: tuple[int, Token] | None = None  # where the cut title began, and the name's first word after it
    if etype == "person" and "titles" in rules and tokens:
        title_start = tokens[0].idx
        while len(tokens) > 1 and tokens[0].lower_.rstrip(".") in _TITLE_WORDS:
            if tokens[0].lower_ == "m." and "le" not in determiners:
                break  # "M. Critchley": an initial, except in French ("M. Macron")
            if tokens[0].lower_ in ("don", "doña") and "el" not in determiners:
                break  # "Don Barnes": a first name, except in Spanish ("don Felipe")
            tokens.pop(0)
            titled = (title_start, tokens[0])
        # the titles written before the name, outside what NER named: "Mme Roux", "le général Prim", "M. le
        # comte de Meran" where NER named "Roux", "Prim", "de Meran" (the mention as written, an alias)
        begin = _titles_before(doc, ent.start if titled is not None else tokens[0].i, determiners)
        if begin is not None:
            titled = (begin.idx, tokens[0])
    # "le Belge Remco Evenepoel", "Spaniard Carlos Alcaraz": the nationality is not part of the name.
    if len(tokens) >= 3 and etype == "person" and "demonyms" in rules:
        res = gaz.resolve(tokens[0].text)
        if res is not None and res.kind == "demonym":
            tokens.pop(0)
    place: list[Token] = []
    if etype == "organization" and "split_org" in rules:
        tokens, place = _split_org(tokens, gaz)
    if not tokens:
        return []
    if "stopwords" in rules and len(tokens) == 1 and tokens[0].lower_ in stops:
        word = tokens[0].text
        if word.lower() == word.upper() or (word[1:].islower() and _opens(tokens[0])):
            return []  # "Según", "Además", "Nell'" opening a sentence ("Stato" inside stays); in Arabic, anywhere
    start, end = tokens[0].idx, tokens[-1].idx + len(tokens[-1].text)
    text = doc_text(doc)[start:end]  # the span's text, without joining its tokens again
    for suffix in ("'s", "’s"):
        if text.endswith(suffix):
            text, end = text[: -len(suffix)], end - len(suffix)
    if (
        words is not None
        and len(tokens) == 1
        and (compound := _ACRONYM_COMPOUND.match(text))
        and _common_word(words, compound.group(2).lower())  # a common noun, not "TX-Datenwerk"
    ):
        text = compound.group(1)  # "CDU-Politiker", "EU-Kommission", "NMBS-directie": the organisation named
        end = start + len(text)
        etype = "organization"
    cased = any(c.lower() != c.upper() for c in text)  # Arabic, Chinese... have no capitals to require
    if (
        "\n" in text
        or len(text) < 2
        or (cased and not any(c.isupper() for c in text) and not listed)
        or any(c.isdigit() for c in text)
    ):
        return []
    if text in _ZONES or (len(tokens) == 1 and etype == "person" and tokens[0].lower_ in _TABLE_WORDS):
        return []  # "GMT", "Attendance"
    if "events" in rules and _event_name(tokens, etype):
        return []  # "the Lisbon Open", "U.S." of "U.S. Amateur Championship": a tournament, not a place
    if tokens[0].text[:1].islower() and tokens[0].lower_ in _TITLE_WORDS:
        return []  # "ministre des Transports": a role, not an organisation
    if "titles" in rules and text.lower().rstrip(".") in _COURTESY:
        return []  # "MM.", "Mme": a courtesy title alone is no name
    if "brackets" in rules and (
        (len(tokens) >= 2 and _country_follows(tokens, gaz) and tokens[-1].lower_ not in _ORG_HEADS)
        or (_minute_follows(tokens) and gaz.resolve(text) is None)
        or (etype == "place" and _ranked(tokens) and _bracket_follows(tokens) and gaz.resolve(text) is None)
        or (etype == "place" and len(tokens) == 1 and _listed_with_people(tokens) and gaz.resolve(text) is None)
    ):
        etype = "person"  # "Jannik Sinner (Italy)": a competitor; "Tudor Vaskevics (31st)": a scorer
    after = doc[tokens[-1].i + 1].lower_ if tokens[-1].i + 1 < len(doc) else ""
    if (
        "portfolios" in rules
        and len(tokens) == 1
        and tokens[0].lower_ in _PORTFOLIOS
        and (etype != "organization" or after in _TITLE_WORDS)
    ):
        return []  # "Defense" of "Defense Minister ...", not "the Treasury said"
    single = tokens[0].lower_ if len(tokens) == 1 else ""
    if "institutions" in rules and etype in ("person", "place") and single in _INSTITUTIONS:
        etype = "organization"
    org_cues = "org_cues" in rules
    if org_cues and etype in ("person", "place") and after in _ORG_CUES_AFTER and gaz.resolve(text) is None:
        etype = "organization"
    if (
        org_cues
        and etype == "person"
        and (
            (tokens[0].i > 0 and doc[tokens[0].i - 1].lower_ in _ORG_CUES)
            or (len(tokens) >= 2 and tokens[-1].lower_.rstrip(".") in _ORG_HEADS)
            or (len(tokens) == 1 and tokens[0].is_upper and 2 <= len(tokens[0]) <= 6)  # "LSEG": initials, not a name
        )
    ):
        etype = "organization"
    last = tokens[-1].lower_.rstrip(".")
    if "company_suffixes" in rules and etype in ("person", "place") and len(tokens) >= 2 and last in _COMPANY_SUFFIXES:
        etype = "organization"  # "Pfizer Inc", "Rakuten Inc" (NER: a place)
    if "facilities" in rules and etype == "organization" and len(tokens) >= 2 and last in _FACILITIES:
        etype = "place"  # "Kensington Palace", "Euston Station": a building, as CoNLL and OntoNotes (FAC) read it
    team = False
    if in_table and etype in ("person", "organization", "place"):
        etype, team = _competitor_type(tokens, etype, gaz)
    if etype in ("person", "misc", "organization", "place"):
        if ent.label_ == "GENITIVE":  # "Japans": Japan's, not the Dutch for Japanese
            res = gaz.resolve(text[:-1], allow_inflection=False)
        else:
            res = gaz.resolve(text, allow_inflection=etype == "person" and len(tokens) == 1)
        if res is None and etype in ("place", "misc") and len(tokens) == 1:
            inflected = gaz.resolve(text)  # an inflected adjective of nationality ("Britse", "französischen")
            res = inflected if inflected is not None and inflected.kind == "demonym" else None
        if res is not None and "gazetteer_types" in rules:
            if res.kind == "demonym":
                etype = "group"
            elif etype in ("person", "misc") or (
                etype == "organization" and res.kind in _PLACE_KINDS and not (in_table and res.kind == "city")
            ):
                etype = "place"
        elif etype == "misc":
            return []
    before = doc[tokens[0].i - 1].lower_ if tokens[0].i > 0 else ""
    locative = before in _LOCATIVES or _dated(doc, tokens[-1].i + 1)
    nxt = tokens[-1].i + 1
    employer = (  # "Everton's Ana Ruiz": a one-word name owning a person is a club or a company
        len(tokens) == 1
        and nxt + 1 < len(doc)
        and doc[nxt].text in ("'s", "’s")
        and doc[nxt + 1].ent_type_ == "PERSON"
        and doc[nxt + 1].ent_iob_ == "B"
    )
    competitor = before in _RESULT_WORDS or after in _RESULT_WORDS or after in _CLUB_ROLES or employer
    mention = _Mention(etype, text, start, end, competitor, locative, team)
    mention.caps = len(caps) > tokens[0].i and caps[tokens[0].i]
    if titled is not None and etype == "person" and titled[1] is tokens[0]:
        mention.written = " ".join(doc_text(doc)[titled[0] : end].split())  # kept as an alias ("M. Ador")
    if etype != "organization" or not place:
        return [mention]
    place_text = doc[place[0].i : place[-1].i + 1].text
    return [mention, _Mention("place", place_text, place[0].idx, place[0].idx + len(place_text))]


def _titles_before(doc: SpacyDoc, i: int, determiners: frozenset[str]) -> Token | None:
    """The first word of the titles written right before token ``i`` (a person's first word), or None:
    courtesy titles, job titles and ranks, with an article after a courtesy title ("M. le comte") and the
    words that complete a title ("le général en chef", "conseiller fédéral"); "M." is a title only in French
    (elsewhere an initial)."""
    first = doc[i] if doc[i].lower_ in _RANKS else None  # "comte de Meran", the rank NER named with him
    j = i - 1
    while j >= 0:
        k = j
        if (doc[k].lower_,) in _TITLE_LINKS:
            k -= 1
        elif k > 0 and (doc[k - 1].lower_, doc[k].lower_) in _TITLE_LINKS:
            k -= 2
        if k < 0:
            break
        word = doc[k].lower_.rstrip(".")
        if word in _TITLE_WORDS or word in _RANKS:
            if doc[k].lower_ == "m." and "le" not in determiners:
                break
            first, j = doc[k], k - 1
        elif (
            first is not None
            and k == j
            and word in determiners
            and k > 0
            and doc[k - 1].lower_.rstrip(".") in _COURTESY
        ):
            j = k - 1  # "M. le comte": the article after a courtesy title
        else:
            break
    return first


def _event_name(tokens: list[Token], etype: str) -> bool:
    """Is the name, or the name and up to three capitalised words after it, a sporting event ("Lisbon Open",
    "U.S. Amateur Championship", "Fed Cup")? (A person's own name may end so: "Tim Masters".)"""
    doc = tokens[0].doc
    last, j = tokens[-1], tokens[-1].i + 1
    while j < len(doc) and j - tokens[-1].i <= 3 and _name_word(doc[j]) and doc[j - 1].whitespace_ == " ":
        last, j = doc[j], j + 1
    if last is tokens[-1] and (len(tokens) < 2 or etype == "person"):
        return False
    return last.lower_ in _EVENTS and last.text[:1].isupper()


def _split_org(tokens: list[Token], gaz: Gazetteer) -> tuple[list[Token], list[Token]]:
    """An organisation's name and the place NER glued to its end (``[]`` when there is none).

    "Museum of Natural Sciences in Buenos Aires" is "Museum of Natural Sciences" in "Buenos Aires": a
    trailing "in <place>" the gazetteer knows. (A leading country stays: it is part of "Japan
    Meteorological Agency" and "UK Health Security Agency", not only of "US Federal Reserve".)
    """
    for k in range(len(tokens) - 2, 1, -1):
        if tokens[k].lower_ == "in":
            place = gaz.resolve(" ".join(t.text for t in tokens[k + 1 :]), allow_inflection=False)
            if place is not None and place.kind in _PLACE_KINDS:
                return tokens[:k], tokens[k + 1 :]
    return tokens, []


class _LineFlags:
    """Which tokens lie on lines of one kind: ``flags[i]`` for token ``i``, found by bisecting the lines'
    character ranges (only the tokens asked about are looked at)."""

    def __init__(self, sdoc: SpacyDoc, lines: list[tuple[int, int]]) -> None:
        self._doc = sdoc
        self.lines = lines
        self._starts = [start for start, _ in lines]

    def __len__(self) -> int:
        return len(self._doc)

    def __getitem__(self, i: int) -> bool:
        if not self._starts:  # no line of the kind (most articles): no token to look up
            return False
        at = self._doc[i].idx
        k = bisect_right(self._starts, at) - 1
        return k >= 0 and at < self.lines[k][1]

    def token_ranges(self) -> list[tuple[int, int]]:
        """``(start, end)`` token indices of each line."""
        spans = [self._doc.char_span(s, e, alignment_mode="expand") for s, e in self.lines]
        return [(span.start, span.end) for span in spans if span is not None]


def _cased_script(line: str) -> bool:
    """True when most letters of ``line`` have a case: an Arabic line with one Latin acronym in it ("CNN") is
    not a line written in capitals."""
    letters = [c for c in line if c.isalpha()]
    return sum(1 for c in letters if c.lower() != c.upper()) * 2 > len(letters)


def _line_kinds(sdoc: SpacyDoc) -> tuple[_LineFlags, _LineFlags]:
    """Which tokens are on a results-table row, and which on a line written in capitals only.

    A line is a row when at least two of its words are figures and figures are a quarter or more of its
    words ("Somerset 83 and 174 (P. Simmons 4-38), Leicestershire 296."; "Merrow 3 1 0 6 1 10"), not a
    sentence with a number in it ("beat Somerset by an innings and 39 runs"); dates do not count
    ("LONDON 1996-08-30" is a dateline). A capitals line has letters, most of them of a cased script, and no
    lower-case letter ("SOCCER - TOTTENHAM SACK POSTECOGLOU AFTER RUN OF DEFEATS", "EASTERN CONFERENCE").
    Work linear in the text.
    """
    rows: list[tuple[int, int]] = []
    caps: list[tuple[int, int]] = []
    pos = 0
    for line in doc_text(sdoc).split("\n"):
        end = pos + len(line)
        if _DIGIT.search(line):
            words = [w.strip("()[],.;:") for w in _DATES.sub(" ", line).split() if any(c.isalnum() for c in w)]
            numbers = sum(1 for w in words if _NUMBER.match(w))
            if numbers >= 2 and numbers * 4 >= len(words):
                rows.append((pos, end))
                pos = end + 1
                continue
        if line.isupper() and _cased_script(line):  # cased letters, none in lower case
            caps.append((pos, end))
        pos = end + 1
    return _LineFlags(sdoc, rows), _LineFlags(sdoc, caps)


def _confirm_capitals(mentions: list[_Mention], gaz: Gazetteer) -> list[_Mention]:
    """Mentions on capitals-only lines, kept only when the rest of the article or the gazetteer confirms them.

    NER reads an all-capitals headline poorly ("RUN", "LEADING SCORES"); a name there that also occurs,
    whole or as part of a name, among the mentions of the mixed-case text ("TOTTENHAM" and "Tottenham
    Hotspur", "POSTECOGLOU" and "Ange Postecoglou") or that the gazetteer knows ("LONDON") is kept.
    An article in capitals throughout is left as it is. (Parts of names up to five words: linear work.)
    """
    plain = [m for m in mentions if not m.caps]
    if not plain or len(plain) == len(mentions):
        return mentions
    known: set[str] = set()
    for m in plain:
        words = fold(m.text).split()
        known.update(" ".join(words[a:b]) for a in range(len(words)) for b in range(a + 1, min(a + 6, len(words)) + 1))
    return [m for m in mentions if not m.caps or fold(m.text) in known or gaz.resolve(m.text) is not None]


def _split_at_breaks(ent: Span) -> list[Span]:
    """An entity cut at brackets and at a dash between spaces, which no name contains: "Hizbollah (Party of
    God" is two names, "Everton - Iliman Ndiaye" too ("Chester-le-Street" keeps its hyphens); capitals or
    a time before the first dash are a slug or a time stamp, not a name ("LIVE - Champions League")."""
    if len(ent) < 3:
        return [ent]
    parts: list[Span] = []
    start = ent.start
    for tok in ent:
        if tok.text in _BRACKETS or (
            tok.text in ("-", "–", "—") and tok.whitespace_ and tok.i > 0 and tok.nbor(-1).whitespace_
        ):
            head = ent.doc[start : tok.i]
            slug = tok.text != "(" and all(t.is_upper or t.like_num or t.text in _ZONES for t in head)
            if tok.i > start and not (start == ent.start and slug):  # "LIVE - ...", "2130 GMT - ..."
                parts.append(Span(ent.doc, start, tok.i, label=ent.label))
            start = tok.i + 1
    if ent.end > start:
        parts.append(Span(ent.doc, start, ent.end, label=ent.label))
    return parts


_CONJUNCTIONS = frozenset({"and", "et", "y", "e", "ed", "und", "en"})


def _split_conjoined(ent: Span, gaz: Gazetteer) -> list[Span]:
    """A place NER named across "and" between two capitalised names ("Lyon et Grenoble", "Porto e Braga") cut
    into the two; a place the gazetteer knows whole stays ("Trinidad and Tobago", "Bosnia e Herzegovina")."""
    if ent.label_ not in ("GPE", "LOC") or len(ent) < 3:
        return [ent]
    cuts = [
        t.i
        for t in ent[1:-1]
        if t.lower_ in _CONJUNCTIONS and t.is_lower and t.nbor(1).text[:1].isupper() and t.nbor(-1).text[:1].isupper()
    ]
    if not cuts or gaz.resolve(ent.text) is not None:
        return [ent]
    parts, start = [], ent.start
    for i in cuts:
        parts.append(Span(ent.doc, start, i, label=ent.label))
        start = i + 1
    parts.append(Span(ent.doc, start, ent.end, label=ent.label))
    return parts


# lower-case words that stand inside names in any of the languages ("Vincent van Gogh", "Osama bin Laden")
_NAME_PARTICLES = frozenset(
    {"van", "von", "der", "den", "de", "da", "das", "do", "dos", "di", "del", "della", "des", "du", "la", "le", "y",
     "e", "bin", "ibn", "al", "el", "ben", "zu", "ter", "te", "ten", "and", "of", "the", "et", "und", "en"}
)  # fmt: skip


# the words that make an organisation part of another ("Conselho de Segurança da ONU", "Comité central du PCF")
_OF_WORDS = frozenset(
    {"of", "de", "do", "da", "dos", "das", "di", "del", "della", "dello", "dei", "degli", "delle", "du", "des", "von",
     "der", "van", "het"}
)  # fmt: skip
# an article that may follow one of them ("de la", "of the", "de l'")
_OF_ARTICLES = frozenset({"la", "the", "l'", "l’"})


def _join_org_of_org(spans: list[Span]) -> list[Span]:
    """An organisation NER named right before "of" (one to two words: "da", "de la", "of the") and another
    organisation is one organisation with it: "Conselho de Segurança" + "da" + "ONU", "Sindicato dos
    Metalúrgicos" + "do" + "ABC". A place after "of" stays a place ("Tribunale" + "di Parma")."""
    ordered = sorted(spans, key=lambda sp: sp.start)
    out: list[Span] = []
    for span in ordered:
        prev = out[-1] if out else None
        if (
            prev is not None
            and prev.label_ == "ORG"
            and span.label_ == "ORG"
            and 1 <= span.start - prev.end <= 2
            and all(t.lower_ in _OF_WORDS or t.lower_ in _OF_ARTICLES for t in span.doc[prev.end : span.start])
            and span.doc[prev.end].lower_ in _OF_WORDS
        ):
            out[-1] = Span(span.doc, prev.start, span.end, label="ORG")
            continue
        out.append(span)
    return out


def _extend_org_and_of(spans: list[Span]) -> list[Span]:
    """An organisation named with "of" ("Câmara da Indústria", "Ministerio de Trabajo") that the text goes on
    with "and of" and a name ("... e do Comércio", "... y de Asuntos Sociales", "... et des Finances") is one
    organisation with it: NER cut it at the conjunction. What NER made of the words it takes is dropped."""
    ordered = sorted(spans, key=lambda sp: sp.start)
    drop: set[int] = set()
    out: list[Span] = []
    for k, span in enumerate(ordered):
        if k in drop:
            continue
        doc, end = span.doc, span.end
        if span.label_ != "ORG" or not any(t.lower_ in _OF_WORDS for t in span[1:-1]) or end + 2 >= len(doc):
            out.append(span)
            continue
        j = end + 1
        if doc[end].lower_ not in _CONJUNCTIONS or doc[j].lower_ not in _OF_WORDS:
            out.append(span)
            continue
        j += 1
        if j < len(doc) and doc[j].lower_ in _OF_ARTICLES:
            j += 1
        stop = j
        while stop < len(doc) and (doc[stop].text[:1].isupper() or (doc[stop].lower_ in _OF_WORDS and stop > j)):
            stop += 1
        while stop > j and not doc[stop - 1].text[:1].isupper():
            stop -= 1
        inside = [i for i in range(k + 1, len(ordered)) if ordered[i].start < stop]
        if stop == j or any(ordered[i].end > stop for i in inside):
            out.append(span)
            continue
        drop.update(inside)
        out.append(Span(doc, span.start, stop, label="ORG"))
    return out


def _split_at_lowercase(ent: Span, stops: frozenset[str]) -> list[Span]:
    """An entity NER ran across a lower-case word into a person's name that ends it ("MONEY 1 O escritor Clive
    Cussler", a headline run into its text): the first name and the one or two capitalised words after the
    last lower-case word that is no function word of the language or particle of a name are a person, cut
    from what comes before (kept with the entity's label)."""
    if len(ent) < 3:
        return [ent]
    cuts = [
        t.i
        for t in ent[1:-2]
        if t.is_alpha and t.is_lower and t.lower_ not in stops and t.lower_ not in _NAME_PARTICLES
    ]
    if not cuts:
        return [ent]
    tail = ent.doc[cuts[-1] + 1 : ent.end]
    if not (2 <= len(tail) <= 3 and fold(tail[0].text) in first_names() and all(w.text[:1].isupper() for w in tail)):
        return [ent]
    head = [Span(ent.doc, ent.start, cuts[-1], label=ent.label)] if cuts[-1] > ent.start else []
    return [*head, Span(ent.doc, tail.start, tail.end, label="PERSON")]


def _split_at_numbers(ent: Span, runs: dict[int, tuple[int, int]], used: set[tuple[int, int]]) -> list[Span]:
    """An entity on a table row cut at its figures ("Vardon 3 Kelsham 2" is Vardon and Kelsham), each part
    widened to the whole name before a figure that it lies in (``runs``, :func:`_competitor_runs`:
    "Oklahoma City" + "Thunder", "Werder" + "Bremen"); a name already given by another part (``used``)
    is not given twice."""
    parts: list[Span] = []
    start = ent.start
    for tok in [*ent, None]:
        if tok is None or _NUMBER.match(tok.text):
            end = ent.end if tok is None else tok.i
            run = runs.get(start) if end > start else None
            if run is not None and run[0] <= start and end <= run[1]:
                if run in used:
                    start = end  # the rest of a name another entity already widened
                else:
                    used.add(run)
                    start, end = run
            if end > start:
                parts.append(Span(ent.doc, start, end, label=ent.label))
            start = end + 1
    return parts


def _competitor_runs(sdoc: SpacyDoc, rows: _LineFlags) -> dict[int, tuple[int, int]]:
    """On table rows, every run of one to four name words directly followed by a figure, by each of its
    token indices: the name of a competitor, whatever pieces NER cut it into."""
    runs: dict[int, tuple[int, int]] = {}
    for first, last in rows.token_ranges():
        i = first
        while i < last:
            if not _name_word(sdoc[i]):
                i += 1
                continue
            j = i
            while j < last and _name_word(sdoc[j]):
                j += 1
            if j < last and j - i <= 4 and _NUMBER.match(sdoc[j].text):
                runs.update(dict.fromkeys(range(i, j), (i, j)))
            i = j
    return runs


def _dateline_places(sdoc: SpacyDoc, qualifier: regex.Pattern[str] | None = None) -> list[Span]:
    """The places of a dateline that opens a paragraph, whatever NER made of them: one to three words in
    capitals followed by a date ("ROUEN 2025-03-14"), or by a comma and a region or country and a date
    ("LEEDS, England 2025-03-14": both); or followed by a comma and anything else ("MUNICH, May 31 -",
    "SANTIAGO, May 2") when the gazetteer knows them. (Ingest moves the datelines it recognises into
    ``dateline``; this covers the ones left in the body.) ``qualifier``: the language's place qualifier
    (:data:`_PLACE_QUALIFIERS`), part of the place when it follows the capitals ("FRANKFURT A. M.")."""
    gaz = get_gazetteer()
    text = doc_text(sdoc)
    found = []

    def known(start: int, j: int) -> bool:
        res = gaz.resolve(sdoc[start:j].text, allow_inflection=False)
        return res is not None and res.kind in _PLACE_KINDS | {"state"}

    for start in [0] + [i + 1 for i in _newline_tokens(sdoc) if i + 1 < len(sdoc)]:
        j = name_end = _caps_run(sdoc, start)
        if j == start or j >= len(sdoc):
            continue
        if qualifier is not None and (m := qualifier.match(text, sdoc[j - 1].idx + len(sdoc[j - 1]))):
            whole = sdoc.char_span(sdoc[start].idx, m.end())
            if whole is not None and whole.end < len(sdoc):
                j = whole.end
        if _dated(sdoc, j):
            found.append(Span(sdoc, start, j, label="GPE"))
        elif sdoc[j].text == ",":
            k = after = j + 1
            while k < len(sdoc) and k - after < 3 and _name_word(sdoc[k]):
                k += 1
            if k > after and _dated(sdoc, k):  # "LEEDS, England 2025-03-14"
                found += [Span(sdoc, start, j, label="GPE"), Span(sdoc, after, k, label="GPE")]
            elif known(start, name_end):
                found.append(Span(sdoc, start, j, label="GPE"))
    return found


def _join_first_names(spans: list[Span], gaz: Gazetteer) -> list[Span]:
    """People NER cut short, made whole: a person directly after another person ("Zine al-Abidine" + "Ben
    Ali") or after a one-word name of another type that is no place ("Petra" tagged ORG + "Langrova"; so
    are two such one-word names before a country in brackets: "Petra" + "Lansrova" (Czech Republic)), or
    after a capitalised word in no entity ("Sandrine" + "Testud"), is one person with it. That word must
    not open a sentence ("Economist Joel Naroff", "Instead Smith"), except after a rank ("4. Emilio
    Valle") or before a country in brackets ("Sandrine Testud (France)"); nor be a stop word, a title,
    a place or a word the article writes in lower case elsewhere ("Striker" and "the striker")."""
    if not spans:
        return spans
    doc = spans[0].doc
    lower: set[str] | None = None
    out: list[Span] = []
    for span in spans:
        prev = out[-1] if out else None
        person = span.label_ in ("PERSON", "PER")
        if (
            prev is not None
            and prev.end == span.start
            and doc[prev.end - 1].whitespace_ == " "
            and (
                (person and prev.label_ == span.label_)
                or (
                    len(prev) == 1
                    and prev.label_ in ("ORG", "GPE", "LOC", "FAC")
                    and _name_word(prev[0])
                    and gaz.resolve(prev.text) is None
                    and (person or (len(span) == 1 and _country_follows([prev[0], span[0]], gaz)))
                )
            )
        ):
            out[-1] = Span(doc, prev.start, span.end, label="PERSON" if not person else span.label)
            continue
        if not person or span.start == 0:
            out.append(span)
            continue
        word = doc[span.start - 1]
        if not (
            _name_word(word)
            and word.is_alpha
            and not word.is_upper
            and word.whitespace_ == " "
            and (prev is None or prev.end <= word.i)
            and not word.is_stop
            and word.lower_ not in _TITLE_WORDS
            and _first_name_place(word, span, gaz)
        ):
            out.append(span)
            continue
        if lower is None:
            lower = {t.lower_ for t in doc if t.is_lower}
        if word.lower_ in lower or gaz.resolve(word.text) is not None:
            out.append(span)
            continue
        out.append(Span(doc, word.i, span.end, label=span.label))
    return out


def _first_name_place(word: Token, span: Span, gaz: Gazetteer) -> bool:
    """Is ``word`` (before the person ``span``) where a first name stands: inside a sentence after a word in
    lower case, a comma or a bracket, after a rank, or before a country in brackets?"""
    doc = word.doc
    before = doc[word.i - 1] if word.i > 0 else None
    if before is not None and (before.is_lower or before.text in (",", "(")):
        return True  # not after another capitalised word: "Chief Executive Ana Ruiz" is a title
    if before is not None and before.text == "." and word.i > 1 and doc[word.i - 2].like_num:
        return True  # "4. Emilio Valle"
    return _country_follows([word, *span], gaz)


def _lineup_people(sdoc: SpacyDoc) -> list[Span]:
    """The players of a team line-up, whatever NER made of them: on a line with three or more "<shirt
    number> - <name>" items ("Rovers - 1 - Tom Okafor; 2 - Luis de la Vega (14 - Sam Reid 61st), 5 - ..."),
    each name, and each substitute in brackets with only a minute ("(Ben Adeyemi, 70)", "(Reid 61st)"); on a
    line that is nothing but a formation of six names or more (:data:`_FORMATION`), each name.
    NER reads these lists poorly: numbers and dashes around names that start no sentence."""
    found: list[Span] = []
    pos = 0
    for line in doc_text(sdoc).split("\n"):
        if (
            " - " in line
            and line.count(",") + line.count(" - ") + line.count(";") >= 5
            and (f := _FORMATION.match(line))
        ):
            at = pos + f.start("body")
            for m in _FORMATION_WORD.finditer(f.group("body")):
                span = sdoc.char_span(at + m.start(), at + m.end(), label="PERSON")
                if span is not None:
                    found.append(span)
        elif len(_LINEUP_HINT.findall(line)) >= 3:
            matches = list(_LINEUP_ITEM.finditer(line))
            if len(matches) >= 3:
                for m in [*matches, *_LINEUP_SUB.finditer(line)]:
                    span = sdoc.char_span(pos + m.start("name"), pos + m.end("name"), label="PERSON")
                    if span is not None:
                        found.append(span)
        pos += len(line) + 1
    found.sort(key=lambda span: span.start)
    return [span for k, span in enumerate(found) if k == 0 or span.start >= found[k - 1].end]


def _credit_people(sdoc: SpacyDoc) -> tuple[list[Span], _LineFlags]:
    """The people of a sign-off and of a photo credit, whatever NER made of them, and which tokens lie on a
    photo credit's line: the names of two to four capitalised words after "Reporting by", "Writing by",
    "Editing by"... ("Reporting by Ana Ruiz and Tom Okafor in Oslo; Editing by Sam Reid"), and on a line
    crediting an agency ("REUTERS/Ana Ruiz/File Photo", "Ana Ruiz/Pool via REUTERS"), each piece between
    slashes that is such a name and nothing else (there, an entity is also cut at its slashes:
    :func:`_split_at_slashes`). Agency copy closes every story so, and NER reads these lines poorly (names
    glued to "Writing", "File Photo", an agency)."""
    text = doc_text(sdoc)
    found: list[Span] = []
    lines: list[tuple[int, int]] = []
    for role in _CREDIT_ROLE.finditer(text):
        at = role.end()
        while (m := _CREDIT_NAME.match(text, at)) is not None:
            span = sdoc.char_span(m.start(), m.end(), label="PERSON")
            if span is not None:
                found.append(span)
            join = _CREDIT_JOIN.match(text, m.end())
            if join is None:
                break
            at = join.end()
    pos = 0
    for line in text.split("\n"):
        if "/" in line and _AGENCY_CREDIT.search(line):
            lines.append((pos, pos + len(line)))
            for piece in _CREDIT_PIECE.finditer(line):
                name = piece.group("name")
                if name and not name.isupper() and _CREDIT_NAME.fullmatch(name):
                    span = sdoc.char_span(pos + piece.start("name"), pos + piece.end("name"), label="PERSON")
                    if span is not None:
                        found.append(span)
        pos += len(line) + 1
    return found, _LineFlags(sdoc, lines)


# a stretch of two or more words in capitals, each of two letters or more ("ANA RUIZ", "PAUL-EMILE ROUX")
_CAPS_STRETCH = regex.compile(r"(?<![\w'’.-])\p{Lu}[\p{Lu}'’-]*\p{Lu}(?:[ ]+\p{Lu}[\p{Lu}'’-]*\p{Lu})+(?![\w'’-])")
_CAPS_STRETCH_WORDS = 6


def _capital_people(sdoc: SpacyDoc, gaz: Gazetteer, stops: frozenset[str]) -> list[Span]:
    """People written in capitals, whatever NER made of them: a by-line alone on its line ("ANA RUIZ"), a name
    in running text ("par PAUL ROUX, ancien ...", "Forstdirektor KARL PAUL ROTH aus"), two by-lines in a row
    ("ANA RUIZ TOM OKAFOR"). A stretch of two to six words in capitals on a line with lower-case letters, or
    that is the whole line, is read as one or two people when all of it splits into names of two to four
    words, each opening with a first name of ``data/first_name_genders.tsv`` (a first name after a surname
    opens the next name), none a function word of the language or a place the gazetteer knows. A capitals
    headline ("ANA RUIZ QUITTE LE CLUB") does not split so, and stays the headline rule's; one of a name
    and a verb alone ("ANA RUIZ GAGNE") would, as wordfreq gives surnames and verbs alike as common words."""
    text = doc_text(sdoc)
    names = first_names()
    found: list[Span] = []
    pos = 0
    for line in text.split("\n"):
        whole = line.strip()
        mixed = any(c.islower() for c in line)
        for m in _CAPS_STRETCH.finditer(line) if mixed or _CAPS_STRETCH.fullmatch(whole) else ():
            words = [(w.start(), w.end(), w.group()) for w in regex.finditer(r"\S+", m.group())]
            if len(words) > _CAPS_STRETCH_WORDS:
                continue
            people: list[tuple[int, int]] = []
            surname = False
            for start, end, word in words:
                first = fold(word) in names
                if word.lower() in stops or gaz.resolve(word) is not None:
                    people = []
                    break
                if not people or (first and surname):
                    if not first:
                        people = []
                        break
                    people.append((start, end))
                    surname = False
                else:
                    people[-1] = (people[-1][0], end)
                    surname = surname or not first
            for start, end in people:
                n = len(m.group()[start:end].split())
                span = sdoc.char_span(pos + m.start() + start, pos + m.start() + end, label="PERSON")
                if 2 <= n <= 4 and span is not None:
                    found.append(span)
        pos += len(line) + 1
    return found


_DATA = Path(__file__).resolve().parent.parent / "data"
_WORD = regex.compile(r"\w+")


@functools.cache
def _media_names() -> dict[str, tuple[str, ...]]:
    """The names of ``data/news_media.txt`` by their first run of word characters, longest first."""
    by_head: dict[str, list[str]] = {}
    for line in (_DATA / "news_media.txt").read_text(encoding="utf-8").splitlines():
        name = line.strip()
        if name and not name.startswith("#") and (head := _WORD.match(name)):
            by_head.setdefault(head.group(), []).append(name)
    return {head: tuple(sorted(names, key=len, reverse=True)) for head, names in by_head.items()}


def _media_orgs(sdoc: SpacyDoc) -> list[Span]:
    """Organisation spans for the news agencies, papers and broadcasters of ``data/news_media.txt``, written
    as listed (case counts) and standing alone ("( AP / dpa )", "told Reuters", "De Standaard" on a by-line). A
    name inside a longer organisation NER found ("Thomson Reuters Foundation") is left to NER."""
    names = _media_names()
    text = doc_text(sdoc)
    heads = names.keys() & set(_WORD.findall(text))
    if not heads:
        return []
    orgs = [(e.start_char, e.end_char) for e in doc_ents(sdoc) if e.label_ == "ORG"]
    found: list[Span] = []
    for head in heads:
        for at in _word_starts(head).finditer(text):
            start = at.start()
            for name in names[head]:
                end = start + len(name)
                alone = end >= len(text) or not (text[end].isalnum() or text[end] in "-_")
                if alone and text.startswith(name, start):
                    inside = any(s <= start and end <= e and (s, e) != (start, end) for s, e in orgs)
                    span = None if inside else sdoc.char_span(start, end, label="MEDIA")
                    if span is not None:
                        found.append(span)
                    break
    return _unoverlapped(found)


@functools.cache
def _word_starts(head: str) -> regex.Pattern[str]:
    return regex.compile(r"(?<!\w)" + regex.escape(head) + r"(?!\w)")


_OPENERS = frozenset('.!?:;¿¡«»"“”„(-–—\n')


def _opens(tok: Token) -> bool:
    """Does ``tok`` open a sentence, a line or a quotation (so its capital says nothing of a name)?"""
    text = doc_text(tok.doc)
    at = tok.idx - 1
    while at >= 0 and text[at] in " \t":
        at -= 1
    return at < 0 or text[at] in _OPENERS


@functools.cache
def first_names() -> dict[str, str]:
    """Folded first name -> "m" / "f" for names whose gender is clear (``data/first_name_genders.tsv``)."""
    lines = (_DATA / "first_name_genders.tsv").read_text(encoding="utf-8").splitlines()
    return dict(line.split("\t", 1) for line in lines if line and not line.startswith("#"))


_PAIR = regex.compile(r"(?<![\w'’.-])\p{Lu}\p{Ll}+(?: \p{Lu}\p{Ll}+){1,2}(?![\w'’-])")


def _named_pairs(sdoc: SpacyDoc, covered: set[int], gaz: Gazetteer, stops: frozenset[str]) -> list[Span]:
    """People NER left out: two or three capitalised words, the first a first name of
    ``data/first_name_genders.tsv``, none in an entity (``covered``: token indices, to which theirs are
    added), a function word, a place or a country the gazetteer knows ("by-line / Hans Keller", "Von Hans
    Keller"; not "Santiago Bernabeu": a capital city)."""
    text = doc_text(sdoc)
    names = first_names()
    found: list[Span] = []
    for m in _PAIR.finditer(text, overlapped=True):  # "Von Hans Keller": then "Hans Keller"
        words = m.group().split(" ")
        if fold(words[0]) not in names or any(w.lower() in stops or gaz.resolve(w) is not None for w in words):
            continue
        span = sdoc.char_span(m.start(), m.end(), label="PERSON")
        if span is not None and covered.isdisjoint(range(span.start, span.end)):
            found.append(span)
            covered.update(range(span.start, span.end))
    return found


def _covered(sdoc: SpacyDoc, spans: Sequence[Span]) -> set[int]:
    """The token indices inside ``spans`` or inside any of NER's entities: where the rules that add names NER
    left out (:func:`_named_pairs`, :func:`_acronym_orgs`, :func:`_known_places`, :func:`_genitive_places`)
    add none."""
    covered = {i for span in spans for i in range(span.start, span.end)}
    covered.update(i for e in doc_ents(sdoc) for i in range(e.start, e.end))
    return covered


# Languages that write a noun and the organisation it belongs to as one word ("CDU-Politiker", "NMBS-directie"):
# there, rule ``compounds`` reads the acronym; elsewhere such a word is more often the name ("SUD-Rail").
_COMPOUNDING = frozenset({"de", "nl"})
_ACRONYM_COMPOUND = regex.compile(r"^(\p{Lu}{2,6})-(\p{L}\p{Ll}{3,})$")
# The rarity (:func:`~.rarity.rarity`) of a word of zipf 3, about once per million words: a word at least that
# common is a common noun ("Politiker", "Regierung"), a rarer one more likely a name ("Bernabeu").
_COMMON_RARITY = RARE_ZIPF - 3.0


def _common_word(table: dict[str, float], word: str) -> bool:
    """``word`` (lowercase) is at least as common in the language as :data:`_COMMON_RARITY` says."""
    return rarity(table, word) <= _COMMON_RARITY


_CAPITALISED = regex.compile(r"(?<![\w'’.-])\p{Lu}\p{Ll}+(?![\w'’-])")


# ... and one right after an elided article or preposition ("d'Espagne", "l'Italie", "dell'Italia")
_CAPITALISED_AFTER_ELISION = regex.compile(
    r"(?:(?<![\w'’.-])|(?<=(?<![\w'’-])\p{Ll}{1,4}['’]))\p{Lu}\p{Ll}+(?![\w'’-])"
)


def _known_places(sdoc: SpacyDoc, covered: set[int], gaz: Gazetteer, stops: frozenset[str], lang: str) -> list[Span]:
    """Places NER left out: a capitalised word, in no entity, that the gazetteer reads as a country or a
    capital ("Frankreich", "Madrid"), unless a rare capitalised word follows it: then it begins a longer
    name ("Santiago Bernabeu"), while a common one ("Frankreich Regierung"... German capitalises nouns) does
    not. ``covered``: as for :func:`_named_pairs`."""
    table = rarity_table(lang)
    text = doc_text(sdoc)
    found: list[Span] = []
    for m in _CAPITALISED_AFTER_ELISION.finditer(text):
        word = m.group()
        if word.lower() in stops:
            continue
        res = gaz.resolve(word)
        if res is None or res.kind not in ("country", "capital"):
            continue
        span = sdoc.char_span(m.start(), m.end(), label="LOC")
        if span is None or span.start in covered:
            continue
        if text[m.start() - 1 : m.start()] in ("'", "’") and not (
            span.start > 0 and sdoc[span.start - 1].lower_ in stops
        ):
            continue  # "d'Espagne", "dell'Italia": an elided article or preposition, not "O'Brien"
        after = _CAPITALISED.match(text, m.end() + 1) if text[m.end() : m.end() + 1] == " " else None
        if after is not None and (table is None or not _common_word(table, after.group().lower())):
            continue  # a rare word: a longer name's next word
        found.append(span)
        covered.add(span.start)
    return found


# The abbreviated river or region that tells a place from its namesakes, per language: German "a. M." (am
# Main), "a. d. O." (an der Oder), "i. Br." (im Breisgau).
_PLACE_QUALIFIERS = {"de": regex.compile(r" (?:[aAiI]\.(?: ?[dD]\.)?) ?\p{Lu}\p{Ll}{0,2}\.")}


def _qualified_places(sdoc: SpacyDoc, spans: list[Span], qualifier: regex.Pattern[str]) -> list[Span]:
    """A place followed by its qualifier (:data:`_PLACE_QUALIFIERS`) made one place with it, and what else
    was found in the qualifier dropped ("A. M." read as a person's initials)."""
    text = doc_text(sdoc)
    grown: dict[int, Span] = {}
    for i, span in enumerate(spans):
        if span.label_ in ("GPE", "LOC") and (m := qualifier.match(text, span.end_char)):
            whole = sdoc.char_span(span.start_char, m.end(), label=span.label_)
            if whole is not None:
                grown[i] = whole
    if not grown:
        return spans
    out = []
    for i, span in enumerate(spans):
        if i in grown:
            out.append(grown[i])
        elif not any(span.start < g.end and g.start < span.end for g in grown.values()):
            out.append(span)
    return out


# How the languages name a place's inhabitants ("Genevois", "Milanese", "Lisboeta", "Berliner"), longest first.
_INHABITANT_ENDINGS: dict[str, tuple[str, ...]] = {
    lang: tuple(sorted({fold(e) for e in endings.split()}, key=len, reverse=True))  # folded as names are
    for lang, endings in {
        "fr": "ois oise oises ais aise aises ien ienne iens iennes ain aine ains aines",
        "it": "ese esi ano ana ani ane ino ina ini ine",
        "es": "eño eña eños eñas ense enses ano ana anos anas ino ina inos inas és esa eses esas",
        "pt": "ense enses ano ana anos anas ês esa eses esas eta etas ino ina inos inas",
        "de": "er",
        "nl": "se er ers enaar enaars",
        "en": "ian ians er ers ese",
    }.items()
}
_VOWELS = frozenset("aeiouàèéìòóù")


def _inhabitants(mentions: list[_Mention], endings: tuple[str, ...], gaz: Gazetteer) -> None:
    """A one-word place that is another place's name with an inhabitants' ending ("Genevois" for Genève,
    "Milanese" for Milano; the place named in the article or known to the gazetteer), and no place the
    gazetteer knows itself, names the people of that place: a group, as a nationality is."""
    named = {fold(m.text) for m in mentions if m.type == "place"}
    for m in mentions:
        if m.type != "place" or " " in m.text or "-" in m.text:
            continue
        word = fold(m.text)
        if gaz.resolve(m.text, allow_inflection=False) is not None:
            continue
        for ending in endings:
            stem = word[: -len(ending)]
            if not word.endswith(ending) or len(stem) < 3:
                continue
            if any(p != word and (p == stem or (p[:-1] == stem and p[-1] in _VOWELS)) for p in named) or any(
                (res := gaz.resolve(stem + v, allow_inflection=False)) is not None and res.kind != "demonym"
                for v in ("", "e", "a", "o")
            ):
                m.type = "group"
                break


def _common_noun_place(m: _Mention, nouns: SortedWords, gaz: Gazetteer, genitive: bool = False) -> bool:
    """A one-word place that is a common noun of the language (:func:`~.lexicon.common_nouns`: "Saison",
    "Kuchen", "Plastik") and no place the gazetteer knows, nor, with ``genitive``, such a place in the genitive
    ("Chinas"): German capitalises nouns, and NER trained on little data takes some for places. Places only: a
    surname or an institution ("Bundestag") can be a common noun too."""
    return (
        m.type == "place"
        and m.text in nouns
        and gaz.resolve(m.text, allow_inflection=False) is None
        and not (genitive and _genitive_of_place(m.text, gaz))
    )


# Languages that write a place's genitive with a bare -s ("Japans Regierung", "Hamburgs Hafen").
_GENITIVE_S = frozenset({"de"})


def _genitive_of_place(word: str, gaz: Gazetteer) -> bool:
    """Is ``word`` a country, capital or large city the gazetteer knows plus the genitive "s" ("Japans",
    "Chinas", "Hamburgs"), the word itself none of those ("Paris", "Athens" are the names themselves; that
    the gazetteer also reads "Japans" or "Indiens" as a nationality in Dutch or French does not count)?"""
    if len(word) < 5 or not word.endswith("s"):
        return False
    res = gaz.resolve(word, allow_inflection=False)
    if res is not None and res.kind in ("country", "capital", "city"):
        return False
    stem = gaz.resolve(word[:-1], allow_inflection=False)
    return stem is not None and stem.kind in ("country", "capital", "city")


def _genitive_places(sdoc: SpacyDoc, covered: set[int], gaz: Gazetteer, stops: frozenset[str]) -> list[Span]:
    """Places NER left out, in the genitive: a capitalised word, in no entity, that is a country, capital or
    large city the gazetteer knows plus "s" ("Japans", "Hamburgs"), where the word itself is none of those
    (the gazetteer reads "Japans" as a nationality in Dutch). ``covered``: as for :func:`_named_pairs`."""
    text = doc_text(sdoc)
    found: list[Span] = []
    for m in _CAPITALISED.finditer(text):
        word = m.group()
        if word.lower() in stops or not _genitive_of_place(word, gaz):
            continue
        span = sdoc.char_span(m.start(), m.end(), label="GENITIVE")
        if span is None or span.start in covered:
            continue
        found.append(span)
        covered.add(span.start)
    return found


_ACRONYM = regex.compile(r"(?<![\w'’./&-])\p{Lu}{2,6}(?![\w'’/&-])")
_ROMAN = regex.compile(r"^[IVXLCDM]+$")
# Acronyms of things, not organisations, that news writes often.
_COMMON_ACRONYMS = frozenset(
    """
    TV CD DVD PC CEO CFO COO CTO DJ OK PDF URL GPS SMS DNA RNA AIDS HIV SARS GDP GNP PIB BIP VAT IVA BTW MWST
    TVA IPO OPA ETF LED LCD USB WIFI IT AI UFO ID PIN SUV MP MEP GP NGO ONG ONLUS AM PM OS
    EUR USD GBP CHF JPY CNY RUB SEK NOK DKK PLN CZK HUF TRY BRL MXN ARS INR CAD AUD DM FF
    """.split()
)


def _acronym_orgs(
    sdoc: SpacyDoc,
    covered: set[int],
    gaz: Gazetteer,
    stops: frozenset[str],
    rows: Sequence[bool] | _LineFlags,
    caps: Sequence[bool] | _LineFlags,
) -> list[Span]:
    """Organisations NER left out: a word of two to six capitals in running text (not on a capitals line
    or a results row), that is no roman numeral, time zone, function word, place the gazetteer knows or
    acronym of a thing (:data:`_COMMON_ACRONYMS`): "UPC", "ULFA", "GEMA". In news most such words name a
    party, company, union or agency. ``covered``: as for :func:`_named_pairs`."""
    text = doc_text(sdoc)
    found: list[Span] = []
    for m in _ACRONYM.finditer(text):
        word = m.group()
        if word in _ZONES or word in _COMMON_ACRONYMS or _ROMAN.match(word) or word.lower() in stops:
            continue
        span = sdoc.char_span(m.start(), m.end(), label="ORG")
        if span is None or span.start in covered or rows[span.start] or caps[span.start]:
            continue
        line_start = text.rfind("\n", 0, m.start()) + 1
        line_end = text.find("\n", m.end())
        line = text[line_start : len(text) if line_end < 0 else line_end]
        if sum(c.islower() for c in line) <= sum(c.isupper() for c in line):
            continue  # a headline or a name in capitals ("AGUA EOLICA", "ALOIS RÖHRL"), not running text
        near = [sdoc[i] for i in (span.start - 1, span.start + 1) if 0 <= i < len(sdoc)]
        if any(t.is_alpha and t.is_upper for t in near):
            continue
        if gaz.resolve(word) is None:
            found.append(span)
            covered.add(span.start)
    return found


@functools.cache
def stop_words(lang: str) -> frozenset[str]:
    """spaCy's function words of ``lang`` (empty for a language spaCy has none for)."""
    import spacy

    try:
        return frozenset(spacy.util.get_lang_class(lang).Defaults.stop_words)
    except ImportError:
        return frozenset()


def _unoverlapped(spans: list[Span]) -> list[Span]:
    """``spans`` in document order, each one overlapping an earlier one dropped."""
    kept: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if not kept or span.start >= kept[-1].end:
            kept.append(span)
    return kept


def _split_at_slashes(ent: Span) -> list[Span]:
    """An entity of a photo credit cut at each slash: "Ana Ruiz/File Photo" is a name and a credit word."""
    if not any(tok.text == "/" for tok in ent):
        return [ent]
    parts: list[Span] = []
    start = ent.start
    for tok in [*ent, None]:
        if tok is None or tok.text == "/":
            end = ent.end if tok is None else tok.i
            if end > start:
                parts.append(Span(ent.doc, start, end, label=ent.label))
            start = end + 1
    return parts


def _dated(sdoc: SpacyDoc, j: int) -> bool:
    """Does a date start at token ``j``, as one token or as spaCy cuts it ("2025", "-", "03", "-", "14")?
    (Read from those tokens: ``Doc.text`` re-joins the whole document.)"""
    return j < len(sdoc) and sdoc[j].text[:1].isdigit() and bool(_DATE.match(sdoc[j : j + 5].text[:10]))


def _caps_run(sdoc: SpacyDoc, start: int) -> int:
    """The end of the run of up to three words in capitals from token ``start`` ("LA CORUNA", "URUS-MARTAN":
    hyphens and apostrophes inside a word included); ``start`` when there is none."""
    j, words = start, 0
    while j < len(sdoc) and words < 3 and sdoc[j].is_upper and sdoc[j].is_alpha:
        j += 1
        words += 1
        while (
            j + 1 < len(sdoc)
            and sdoc[j].text in ("-", "'", "’")
            and not sdoc[j - 1].whitespace_
            and not sdoc[j].whitespace_
            and sdoc[j + 1].is_upper
            and sdoc[j + 1].is_alpha
        ):
            j += 2
    return j


def _place_datelines(mentions: list[_Mention], starts: set[int]) -> None:
    """Dateline places (mentions starting at ``starts``) are places and read as such, not as capitals to
    confirm; a person or organisation of the same name elsewhere in the article is that place
    ("DARVESH, ..." then "troops held Darvesh", which NER may read as a surname or a company), unless it is
    a team (:func:`_vote_teams` decides after this)."""
    names = set()
    for m in mentions:
        if m.start in starts:
            m.type, m.caps, m.locative = "place", False, True
            names.add(fold(m.text))
    for m in mentions:
        if m.type in ("person", "organization") and not m.team and fold(m.text) in names:
            m.type = "place"


def _unlabelled_competitors(sdoc: SpacyDoc, rows: _LineFlags, brackets: bool = True) -> list[Span]:
    """Names NER left out of table rows: a run of one to three capitalised words, outside every entity,
    followed by a score ("Merrow 3 1 0 6 1 10", "LG 2 OB 0"), labelled ORG (a team; :func:`_clean` retypes
    countries and people) or PERSON after a rank or a total ("287 Ian Woosnam 70 76"); and anywhere, a run
    of two or three followed by a country in brackets ("Aryna Sabalenka (Belarus)") or of one to three
    followed by a minute ("Tudor Vaskevics (31st)"), labelled PERSON.
    Table vocabulary ("Total 296", "Attendance 200") is not a name. ``brackets=False``: table rows only."""
    ranges = rows.token_ranges()
    opened = [m.start() for m in _OPEN.finditer(doc_text(sdoc))] if brackets else []
    if not ranges and not opened:
        return []
    covered = [False] * len(sdoc)
    for ent in doc_ents(sdoc):
        covered[ent.start : ent.end] = [True] * (ent.end - ent.start)
    found: list[Span] = []
    gaz = get_gazetteer()
    for at in opened:  # "Aryna Sabalenka (Belarus)", outside table rows too
        bracket = sdoc.char_span(at, at + 1, alignment_mode="expand")
        if bracket is None:
            continue
        end = bracket.start
        i = end
        while i > 0 and end - i < 3 and not covered[i - 1] and _name_word(sdoc[i - 1]):
            i -= 1
        run = list(sdoc[i:end])
        if (end - i >= 2 and _country_follows(run, gaz)) or (
            end > i and _minute_follows(run) and gaz.resolve(sdoc[i:end].text) is None
        ):
            found.append(Span(sdoc, i, end, label="PERSON"))
            covered[i:end] = [True] * (end - i)
    for first, last in ranges:
        i = first
        while i < last:
            if covered[i] or not _name_word(sdoc[i]):
                i += 1
                continue
            j = i
            while j < last and j - i < 3 and not covered[j] and _name_word(sdoc[j]):
                j += 1
            if (
                j < last
                and _SCORE.match(sdoc[j].text)
                and not (j - i == 1 and sdoc[i].lower_ in _TABLE_WORDS)
                and sum(c.isalpha() for t in sdoc[i:j] for c in t.text) >= 2
                and (i == 0 or not sdoc[i - 1].text[:1].isalpha() or sdoc[i - 1].lower_ in _RESULT_WORDS)
            ):
                label = "PERSON" if j - i >= 2 and _ranked(sdoc[i:j]) else "ORG"  # "287 Ian Woosnam 70 76"
                found.append(Span(sdoc, i, j, label=label))
            i = j
    return found


def _name_word(tok: Token) -> bool:
    return tok.text[:1].isupper() and tok.text.replace(".", "").replace("-", "").isalpha()


def _country_follows(tokens: Sequence[Token], gaz: Gazetteer) -> bool:
    """Is the name followed by a country in brackets ("Faith Kipyegon (Kenya)"), as results list people
    (97% of such names on the CoNLL-2003 dev split are people), and not itself a place?"""
    if not _bracket_follows(tokens):
        return False
    doc = tokens[0].doc
    i = tokens[-1].i + 1
    close = next((j for j in range(i + 2, min(i + 5, len(doc))) if doc[j].text == ")"), None)
    if close is None:
        return False
    inner = gaz.resolve(doc[i + 1 : close].text, allow_inflection=False)
    name = gaz.resolve(" ".join(t.text for t in tokens), allow_inflection=False)
    return inner is not None and inner.kind in ("country", "nation", "state") and name is None


def _bracket_follows(tokens: Sequence[Token]) -> bool:
    """Is the name followed by a bracket ("3. Moreau (Fra, 4 s)", a rider ranked with his country)?"""
    i = tokens[-1].i + 1
    return i < len(tokens[0].doc) and tokens[0].doc[i].text == "("


_LIST_JOINS = _CONJUNCTIONS | {",", ";", "."}


def _bracketed_item(doc: SpacyDoc, end: int) -> bool:
    """Is token ``end`` a bracket of at most six words closing before a comma or "and" (a list's item)?"""
    if end >= len(doc) or doc[end].text != "(":
        return False
    close = next((j for j in range(end + 1, min(end + 8, len(doc))) if doc[j].text == ")"), None)
    return close is not None and (close + 1 >= len(doc) or doc[close + 1].lower_ in _LIST_JOINS)


def _listed_with_people(tokens: Sequence[Token]) -> bool:
    """Is the name an item of a list of people, each with a bracket ("Roth (Lausanne), Anne Vial (Sion),
    Marc Dufour (Nyon)"): two people NER found, each before a bracket, within 40 words of it?"""
    doc = tokens[0].doc
    if not _bracketed_item(doc, tokens[-1].i + 1):
        return False
    lo, hi = max(0, tokens[0].i - 40), min(len(doc), tokens[-1].i + 40)
    people = sum(
        1 for e in doc_ents(doc) if lo <= e.start < hi and e.label_ in ("PER", "PERSON") and _bracketed_item(doc, e.end)
    )
    return people >= 2


def _minute_follows(tokens: Sequence[Token]) -> bool:
    """Is the name followed by a minute in brackets, as scorers are listed ("Tudor Vaskevics (31st)",
    "Shearer (23rd minute)")?"""
    if not _bracket_follows(tokens):
        return False
    doc = tokens[0].doc
    i = tokens[-1].i + 1
    close = next((j for j in range(i + 2, min(i + 5, len(doc))) if doc[j].text == ")"), None)
    return close is not None and bool(_MINUTE.match(doc[i + 1 : close].text))


def _ranked(tokens: Sequence[Token] | Span) -> bool:
    """Is the name right after the rank or total that opens its row ("1. Ian Woosnam", "287 Ian Woosnam"),
    as players are listed (not after the score of the other side: "Crystal Palace 3 Wolverhampton
    Wanderers 1")?"""
    doc = tokens[0].doc
    i = tokens[0].i - 1
    if i >= 0 and doc[i].text == ".":
        i -= 1
    if i < 0 or not _NUMBER.match(doc[i].text):
        return False
    return i == 0 or (doc[i - 1].is_space and "\n" in doc[i - 1].text)  # the row's first figure, not a score


def _competitor_type(tokens: Sequence[Token], etype: str, gaz: Gazetteer) -> tuple[str, bool]:
    """The type of a name on a results-table row, and whether it is a team: a competitor when figures
    follow it.

    A country is a national team (a place, as names of countries are); an initial and a surname is a
    person (a batsman), and so is a full name NER called a person with figures on both sides (a golfer:
    "207 Rory McIlroy 72 66 66"); anything else followed by a figure is a team, whatever NER said
    ("NEW YORK 74 59 .556", "Merrow 64 2 43", "Leicestershire 296", "Nottingham Forest 2 Brighton 2").
    """
    doc = tokens[0].doc
    nxt = tokens[-1].i + 1
    if nxt >= len(doc) or not _NUMBER.match(doc[nxt].text):
        return etype, False
    res = gaz.resolve(" ".join(t.text for t in tokens), allow_inflection=False)
    if res is not None and res.kind in ("country", "nation", "demonym"):
        return etype, False
    if _INITIAL.match(tokens[0].text):
        return etype, False
    if etype == "person" and len(tokens) >= 2:
        # "Nottingham Forest 2 Brighton 2" (one figure, then the other side) and a row that starts with the
        # name ("Bayern Munich 31 24 5 2") are teams; a name after a rank or a total is a player ("207 Rory
        # McIlroy 72 66 66", "1. Ian Woosnam 510,258")
        if _ranked(tokens):
            return etype, False
        pair = nxt + 1 >= len(doc) or not _NUMBER.match(doc[nxt + 1].text)
        starts_row = tokens[0].i == 0 or (doc[tokens[0].i - 1].is_space and "\n" in doc[tokens[0].i - 1].text)
        if not (pair or starts_row):
            return etype, False
    return "organization", True


def _vote_teams(mentions: list[_Mention], gaz: Gazetteer) -> None:
    """Clubs named after places, across the article: a city, county or state (not a country) or a lone
    name NER took for a person, directly next to a result verb ("Leicestershire beat Somerset", "Nice v
    Lyon"), before a player's role ("Norwich striker") or owning a person ("Everton's Ana Ruiz"), is a
    team, and so is an organisation there; so is every other mention of a name that is a team somewhere
    in the article (there, or on a table row, by :func:`_competitor_type`)."""
    surnames = {fold(m.text.split()[-1]) for m in mentions if m.type == "person" and " " in m.text}

    def clubbable(m: _Mention) -> bool:
        if m.type == "person":
            return " " not in m.text and fold(m.text) not in surnames
        if m.type == "place":
            res = gaz.resolve(m.text, allow_inflection=False)
            return res is None or res.kind not in ("country", "nation", "demonym", "institution")
        return False

    for m in mentions:
        if not m.locative and m.result_verb and (clubbable(m) or m.type == "organization"):
            m.type, m.team = "organization", True
    teams = {fold(m.text) for m in mentions if m.team}
    for m in mentions:
        if not m.locative and fold(m.text) in teams and clubbable(m):
            m.type = "organization"


def _vote_types(mentions: list[_Mention]) -> None:
    """A name NER called a place in some mentions and an organisation in others, none of them a team or
    a place by a locative ("in X"), is what most of its mentions say (ties: left as they are)."""
    voters = [m for m in mentions if m.type in ("place", "organization") and not m.team and not m.locative]
    votes: dict[str, Counter[str]] = {}
    for m in voters:
        votes.setdefault(fold(m.text), Counter())[m.type] += 1
    for m in voters:
        tally = votes[fold(m.text)]
        if len(tally) > 1:
            (first, a), (_, b) = tally.most_common(2)
            if a > b:
                m.type = first


def _vote_person_types(mentions: list[_Mention], gaz: Gazetteer) -> None:
    """Names NER typed inconsistently: a place/organisation ending with a person's surname is that person.

    ("Payal Kapadia" tagged as a place once and "Kapadia" as a person later.)
    Names the gazetteer knows (cities, countries) are left alone.
    """
    person_words = {fold(m.text.split()[-1]) for m in mentions if m.type == "person"}
    for m in mentions:
        words = m.text.split()
        if (
            m.type in ("place", "organization")
            and 1 < len(words) <= 3
            and all(w[:1].isupper() for w in words)
            and fold(words[-1]) in person_words
            and gaz.resolve(m.text) is None
        ):
            m.type = "person"


def _vote_short_forms(mentions: list[_Mention], gaz: Gazetteer) -> None:
    """Organisations named short: a person, or a place the gazetteer does not know, whose words open the
    name of an organisation of the article that ends like one ("Inc", "Group", "Bank"...) is that
    organisation ("Harwell" and "Harwell Instruments Corp", "Dunmore Controls" and "Dunmore Controls
    Inc"), unless it is a surname or first name of a person named in full ("Lisa Harwell")."""
    prefixes: set[str] = set()
    for m in mentions:
        words = fold(m.text).split()
        if m.type == "organization" and len(words) >= 2 and words[-1].rstrip(".") in _ORG_HEADS:
            prefixes.update(" ".join(words[:k]) for k in range(1, len(words)))
    if not prefixes:
        return
    named = {w for m in mentions if m.type == "person" and " " in m.text for w in fold(m.text).split()}
    for m in mentions:
        key = fold(m.text)
        if (
            key in prefixes
            and (m.type == "person" or (m.type == "place" and gaz.resolve(m.text) is None))
            and not (" " not in key and key in named)
        ):
            m.type = "organization"


def _merge_people(mentions: list[_Mention]) -> list[Entity]:
    """People clustered on full names, single names linked to the full name they end."""
    clusters: list[Entity] = []
    by_key: dict[str, Entity] = {}
    multi = sorted((m for m in mentions if " " in m.text), key=lambda m: -len(m.text.split()))
    for m in multi:
        key = fold(m.text)
        ent = by_key.get(key)
        if ent is None:
            toks = key.split()
            ent = next((c for c in clusters if fold(c.name).split()[-len(toks) :] == toks), None)
        if ent is None:
            ent = Entity("person", m.text, key)
            clusters.append(ent)
        by_key[key] = ent
        ent.add(m.start, m.end, m.text, m.written)
    for m in sorted((m for m in mentions if " " not in m.text), key=lambda m: m.start):
        ent = _surname_owner(m.text, [c for c in clusters if len(c.folded_tokens) > 1], m.start)
        if ent is None:
            key = fold(m.text)
            ent = by_key.get(key)
            if ent is None:
                ent = by_key[key] = Entity("person", m.text, key)
                clusters.append(ent)
        ent.add(m.start, m.end, m.text, m.written)
    return clusters


def _surname_owner(word: str, people: Sequence[Entity], at: int) -> Entity | None:
    """The person ``word`` names: by surname, else by another part of the name, else by first name.

    Tried in order: multi-word names ending with ``word``; containing it
    after the first name; a one-word person of that name; multi-word names
    starting with it ("Carlos" for Carlos Alcaraz). Among several candidates
    of one rule, the one mentioned last before offset ``at`` (else the first
    mentioned) is chosen.
    """
    w = fold(word)
    folded = [(p, p.folded_tokens) for p in people]
    multi = [(p, f) for p, f in folded if len(f) > 1]
    cands = (
        [p for p, f in multi if f[-1] == w]
        or [p for p, f in multi if w in f[1:]]
        or [p for p, f in folded if len(f) == 1 and fold(p.name) == w]
        or [p for p, f in multi if f[0] == w]
    )
    if not cands:
        return None
    if len(cands) == 1:
        return cands[0]

    return max(cands, key=lambda p: (p.last_before(at), -(p._starts[0] if p._starts else p.first[0])))


def _merge_acronyms(orgs: list[Entity]) -> list[Entity]:
    """Organisations whose all-caps name is the initials of a longer one join it."""
    initials: dict[str, Entity] = {}
    for o in orgs:
        words = [w for w in o.name.split() if w.lower() not in _STOP_INITIALS]
        if len(words) >= 2:
            initials.setdefault("".join(w[0] for w in words).upper(), o)
    kept = []
    for o in orgs:
        target = initials.get(o.name) if o.name.isupper() and 2 <= len(o.name) <= 6 else None
        if target is not None and target is not o:
            target.absorb(o)
        else:
            kept.append(o)
    return kept


def _canonical_surface(ent: Entity) -> str:
    """The name to show: the most frequent surface form (ties: the longest)."""
    counts = Counter(ent.surfaces)
    return max(counts, key=lambda s: (counts[s], len(s)))
