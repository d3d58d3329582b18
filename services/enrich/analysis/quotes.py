"""Direct quotes with their speaker (resolved to the full entity name) and verb.

Quotes are found per paragraph between quotation marks: straight ``"``,
curly ``“ ”`` (also mixed, as wire copy often is) and French guillemets
``« »`` (``„`` opens too). A quoted span is kept when it has at least three
words and is not the title of a work ("Meet the Press") or a one-word scare
quote. ``partial`` marks a fragment woven into reported speech (it starts
lowercase and is not introduced by a colon).

The speaker is looked for in this order:

1. After the quote, in the rest of its sentence: a speech verb ("said",
   "added", "continued", "a déclaré", "dijo", "according to", ...) with a
   person (else an organisation) just before or after it:
   ``"...," White House spokesman John Kirby said`` / ``"...," said Kirby``.
2. Before the quote, in its sentence: the last speech verb and the person
   nearest before it: ``Netanyahu said: "..."``, ``Gallant said ... but
   added: "..."``.
3. A pronoun (he/she/il/elle/él/ella) next to the verb: the last person
   named in the 400 characters before the quote, else the previous quote's
   speaker. A definite description of a role next to the verb instead of a
   name (``"...," the German midfielder said``, ``», a confié le coureur de
   Visma-Lease a Bike``): the last person named in the paragraph before the
   quote. The role nouns are in ``data/speaker_roles.yaml`` (a capitalised
   demonym counts: "the Serb"); spokespeople are not roles, so ``"...," the
   ministry spokesman said`` does not point back to anyone.
4. No attribution: the speaker of another quote in the same paragraph, or of
   the previous paragraph's last quote when the paragraph is only the quote.

Names come from the merged entities, so "Kirby" is reported as "John Kirby".
``resolution`` says which rule gave the speaker (``entity``, ``pronoun``,
``description``, ``paragraph``, ``continuation``); ``speaker`` is None when none applies.
:func:`quotes_of` reads a parsed article; the quotes field reports what it finds.
"""

from __future__ import annotations

import bisect
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import regex
import yaml

from shared.textfold import fold_name as fold

from .entities import Entity
from .gazetteer import get_gazetteer

if TYPE_CHECKING:
    from .doc import Doc

__all__ = ["VERSION", "Quote", "extract_quotes", "find_quoted_spans", "quotes_of"]

VERSION = "1"
_OPEN_ONLY = frozenset("“«„")
_CLOSE_ONLY = frozenset("”»")
_SPEECH = [
    # English
    "said", "says", "say", "told", "tells", "added", "adds", "continued", "continues", "warned", "warns",
    "stressed", "insisted", "explained", "noted", "wrote", "writes", "asked", "replied", "declared",
    "argued", "announced", "commented", "acknowledged", "admitted", "claimed", "confirmed", "recalled",
    "urged", "vowed", "pledged", "predicted", "cautioned", "conceded", "observed", "remarked", "responded",
    "suggested", "tweeted", "posted", "according to", "went on", "concluded", "shouted", "joked",
    # French
    "a déclaré", "déclare", "a dit", "dit", "a ajouté", "ajoute", "a affirmé", "affirme", "a expliqué",
    "explique", "a estimé", "estime", "a souligné", "souligne", "a assuré", "assure", "a indiqué", "indique",
    "a prévenu", "prévient", "selon", "a lancé", "lance", "a martelé", "martèle", "poursuit", "a poursuivi",
    "a confié", "confie", "a réagi", "a déploré", "déplore", "a insisté", "insiste", "a précisé", "précise",
    "a reconnu", "reconnaît", "a annoncé", "annonce", "a averti", "avertit", "a répondu", "répond",
    "déclaré", "affirmé", "ajouté", "expliqué", "estimé", "souligné", "assuré", "indiqué", "prévenu",
    "lancé", "confié", "réagi", "insisté", "précisé", "reconnu", "annoncé", "averti", "répondu", "poursuivi",
    # Spanish
    "dijo", "afirmó", "declaró", "añadió", "aseguró", "explicó", "señaló", "según", "indicó", "advirtió",
    "agregó", "sostuvo", "subrayó", "comentó", "manifestó", "insistió", "reconoció", "anunció", "dice",
]  # fmt: skip
_VERB = regex.compile(
    r"(?<![\p{L}])(" + "|".join(regex.escape(v) for v in sorted(_SPEECH, key=len, reverse=True)) + r")(?![\p{L}])",
    regex.IGNORECASE,
)
_PRONOUN = regex.compile(r"(?<![\p{L}])(he|she|il|elle|él|ella)(?![\p{L}])", regex.IGNORECASE)
_PRONOUN_REACH = 400
_CAPITALISED = regex.compile(r"\p{Lu}[\p{L}\-'’]+")
_TITLE_LABELS = frozenset({"WORK_OF_ART", "EVENT", "PRODUCT", "LAW"})
_ROLES_FILE = Path(__file__).resolve().parent.parent / "data" / "speaker_roles.yaml"
_DEFINITE = frozenset({"the", "le", "la", "l'", "el"})
_WORD = regex.compile(r"[\p{L}\p{N}](?:[\p{L}\p{N}\-'’]*[\p{L}\p{N}])?")
_ROLE_REACH = 4  # words between the determiner and the role noun, at most
_COMPLEMENT = frozenset({"of", "for", "at", "de", "du", "des", "d'", "del"})  # _words writes "d’" as "d'"


@dataclass
class Quote:
    """One quoted passage and who said it."""

    start: int  # offsets of the quoted text (without marks) in Doc.text
    end: int
    text: str
    partial: bool
    speaker: Entity | None = None
    verb: str | None = None
    resolution: str | None = None
    hint: Entity | None = None  # for a pronoun: the last person named before the quote


def find_quoted_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of the text between each pair of quotation marks, paragraph by paragraph.

    ``“``, ``«`` and ``„`` open, ``”`` and ``»`` close, a straight ``"``
    opens when none is open and closes otherwise; a quote left open at the
    end of a paragraph runs to the paragraph's end.
    """
    spans = []
    pos = 0
    for para in text.split("\n"):
        opened = -1
        for i, ch in enumerate(para):
            if ch in _OPEN_ONLY:
                if opened < 0:
                    opened = i
            elif ch in _CLOSE_ONLY or ch == '"':
                if opened >= 0:
                    spans.append((pos + opened + 1, pos + i))
                    opened = -1
                elif ch == '"':
                    opened = i
        if opened >= 0 and len(para) - opened > 40:
            spans.append((pos + opened + 1, pos + len(para)))
        pos += len(para) + 1
    return spans


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in " \u00a0\t":
        start += 1
    while end > start and text[end - 1] in " \u00a0\t,":
        end -= 1
    return start, end


def extract_quotes(
    text: str, sent_starts: list[int], entities: list[Entity], title_spans: list[tuple[int, int]]
) -> list[Quote]:
    """Quotes of ``text`` with speakers, given sentence start offsets and merged entities.

    ``title_spans`` are spans of works/events/products/laws ("Meet the
    Press"): a quote that is exactly one of them is a title, not a quote.
    """
    mentions = sorted(
        ((s, e, ent) for ent in entities if ent.type in ("person", "organization") for s, e in ent.spans),
        key=lambda m: m[0],
    )
    names = _person_names(entities)
    quotes: list[Quote] = []
    for raw_start, raw_end in find_quoted_spans(text):
        start, end = _trim(text, raw_start, raw_end)
        body = text[start:end]
        if len(body.split()) < 3 or any(a <= start + 1 and end - 1 <= b for a, b in title_spans):
            continue
        if len(body.split()) <= 4 and all(w[:1].isupper() for w in body.split() if len(w) > 3):
            continue  # a title in quotes
        before = text[max(0, raw_start - 3) : raw_start - 1].rstrip()
        first = body.lstrip(" .…")[:1]
        partial = first.islower() and not before.endswith(":")
        q = Quote(start, end, body, partial)
        _attribute(q, text, raw_start - 1, raw_end + 1, sent_starts, mentions, names)
        quotes.append(q)
    _propagate(quotes, text)
    return quotes


def _sentence_bounds(pos: int, sent_starts: list[int], text_len: int) -> tuple[int, int]:
    i = bisect.bisect_right(sent_starts, pos) - 1
    start = sent_starts[i] if i >= 0 else 0
    end = sent_starts[i + 1] if i + 1 < len(sent_starts) else text_len
    return start, end


def _person_names(entities: list[Entity]) -> dict[str, Entity]:
    """Folded full names and surnames of the article's people (a surname shared by two is left out)."""
    names: dict[str, Entity | None] = {}
    for e in entities:
        if e.type != "person":
            continue
        for key in {fold(e.name), fold(e.tokens[-1]), *(fold(s) for s in e.surfaces)}:
            names[key] = e if names.get(key, e) is e else None
    return {k: v for k, v in names.items() if v is not None}


def _named_in(window: str, names: dict[str, Entity]) -> Entity | None:
    """The first known person whose name or surname appears capitalised in ``window``."""
    for m in _CAPITALISED.finditer(window):
        ent = names.get(fold(m.group(0)))
        if ent is not None:
            return ent
    return None


def _attribute(
    q: Quote,
    text: str,
    open_at: int,
    close_at: int,
    sent_starts: list[int],
    mentions: list[tuple[int, int, Entity]],
    names: dict[str, Entity],
) -> None:
    """Set speaker and verb of ``q`` from the sentence around it (rules 1-3 of the module doc).

    When NER missed the speaker's mention ("Modi said" untagged), a
    capitalised word equal to a known person's surname stands for them.
    """
    # 1. after the quote, up to the end of the sentence (or the next quote)
    _, after_end = _sentence_bounds(close_at, sent_starts, len(text))
    after_end = min(after_end, close_at + 160, _next_para(text, close_at))
    nxt = _next_quote(text, close_at, after_end)
    window = text[close_at:nxt]
    m = _VERB.search(window)
    if m and m.start() < 100:
        verb_s, verb_e = close_at + m.start(), close_at + m.end()
        who = [x for x in mentions if close_at <= x[0] and x[1] <= min(verb_e + 60, nxt)]
        # nearest to the verb: the last one before it, else the first one after it
        pre = [x for x in who if x[1] <= verb_s]
        post = [x for x in who if x[0] >= verb_e]
        role_after = _role_after(text[verb_e:nxt])
        named_end = min(verb_e + 40, nxt)
        if role_after is not None:  # "a confié le coureur de Visma-Lease": a name in the complement is not the
            complement = verb_e + role_after  # speaker; one in apposition after a comma is
            post = [x for x in post if x[0] < complement or "," in text[complement : x[0]]]
            named_end = min(named_end, complement)
        pick = _best(pre[::-1] + post) or _named_in(text[close_at:named_end], names)
        described = (pick is None or pick.type != "person") and (
            role_after is not None or _role_before(text[close_at:verb_s])
        )
        if _settle(q, m.group(1), pick, described, text[close_at : verb_e + 6], open_at, text, mentions):
            return
    # 2. before the quote, from the start of its sentence
    sent_start, _ = _sentence_bounds(open_at, sent_starts, len(text))
    window = text[sent_start:open_at]
    verbs = list(_VERB.finditer(window))
    if verbs:
        m = verbs[-1]
        verb_s = sent_start + m.start()
        who = [x for x in mentions if sent_start <= x[0] and x[1] <= verb_s]
        pick = _best(who[::-1]) or _named_in(text[sent_start:verb_s], names)
        described = pick is None and _role_before(window[: m.start()])
        _settle(q, m.group(1), pick, described, window, open_at, text, mentions)


def _settle(
    q: Quote,
    verb: str,
    pick: Entity | None,
    described: bool,
    pronoun_span: str,
    open_at: int,
    text: str,
    mentions: list[tuple[int, int, Entity]],
) -> bool:
    """Set ``q``'s speaker from what one side of the quote offers, in order: a description next to the
    verb ("the German midfielder said": the person named last in the paragraph), the entity ``pick``,
    a pronoun in ``pronoun_span`` (no speaker; the person named last before it as a hint). True if set."""
    if described:
        ref = _last_person_in_paragraph(open_at, text, mentions)
        if ref is not None:
            q.speaker, q.verb, q.resolution = ref, verb, "description"
            return True
    if pick is not None:
        q.speaker, q.verb, q.resolution = pick, verb, "entity"
        return True
    if _PRONOUN.search(pronoun_span):
        q.verb, q.resolution = verb, "pronoun"
        q.hint = _last_person_before(open_at, text, mentions)
        return True
    return False


def _last_person_before(pos: int, text: str, mentions: list[tuple[int, int, Entity]]) -> Entity | None:
    """The person named last in the ``_PRONOUN_REACH`` characters before ``pos``."""
    before = [x for x in mentions if pos - _PRONOUN_REACH <= x[0] and x[1] <= pos and x[2].type == "person"]
    return before[-1][2] if before else None


@functools.cache
def _roles() -> frozenset[str]:
    """Folded role nouns of every language in ``data/speaker_roles.yaml``."""
    data = yaml.safe_load(_ROLES_FILE.read_text(encoding="utf-8"))
    return frozenset(fold(word) for words in data.values() for word in words.split())


def _words(window: str) -> list[tuple[str, int]]:
    """The words of ``window`` and their offsets, an elided article split off ("l'entraîneur": "l'", "entraîneur")."""
    out = []
    for m in _WORD.finditer(window):
        w = m.group(0)
        elided = w[:2].lower().replace("’", "'")
        if elided in ("l'", "d'") and len(w) > 2:
            out += [(elided, m.start()), (w[2:], m.start() + 2)]
        else:
            out.append((w, m.start()))
    return out


def _is_role(word: str) -> bool:
    if fold(word) in _roles():
        return True
    if not word[:1].isupper():
        return False
    res = get_gazetteer().resolve(word)
    return res is not None and res.kind == "demonym"


def _role_before(window: str) -> bool:
    """``window`` (the words before a speech verb) is only a definite description ending with a role noun:
    "the German midfielder", "the 37-year-old Serb". A capitalised word other than a demonym is a name, not
    a description, and makes this False."""
    words = [w for w, _ in _words(window)]
    if not 2 <= len(words) <= _ROLE_REACH + 1 or words[0].lower() not in _DEFINITE or not _is_role(words[-1]):
        return False
    return all(not w[:1].isupper() or _is_role(w) for w in words[1:])


def _role_after(window: str) -> int | None:
    """If ``window`` (the text after a speech verb) opens with a definite description of a role ("le coureur
    de Visma-Lease a Bike", "le président exécutif Guillaume Faury"), the offset where its complement
    starts ("de Visma-Lease a Bike": a name in there is not the speaker), or ``len(window)`` when it has
    none; None when it is no such description."""
    words = _words(window)
    if not words or words[0][0].lower() not in _DEFINITE:
        return None
    for i, (w, _) in enumerate(words[1 : _ROLE_REACH + 1], start=1):
        if _is_role(w):
            after = next((at for x, at in words[i + 1 :] if x.lower() in _COMPLEMENT), len(window))
            comma = window.find(",")
            return after if comma < 0 or after < comma else len(window)
        if w[:1].isupper():
            return None
    return None


def _last_person_in_paragraph(pos: int, text: str, mentions: list[tuple[int, int, Entity]]) -> Entity | None:
    """The person named last before ``pos`` in its paragraph."""
    para_start = text.rfind("\n", 0, pos) + 1
    before = [x for x in mentions if para_start <= x[0] and x[1] <= pos and x[2].type == "person"]
    return before[-1][2] if before else None


def _best(ordered: list[tuple[int, int, Entity]]) -> Entity | None:
    """The first person in ``ordered``, else the first organisation."""
    for kind in ("person", "organization"):
        for _, _, ent in ordered:
            if ent.type == kind:
                return ent
    return None


def _next_para(text: str, pos: int) -> int:
    i = text.find("\n", pos)
    return len(text) if i < 0 else i


def _next_quote(text: str, start: int, end: int) -> int:
    for i in range(start, end):
        if text[i] in _OPEN_ONLY or (text[i] == '"' and i > 0 and text[i - 1] in " \u00a0:"):
            return i
    return end


def _propagate(quotes: list[Quote], text: str) -> None:
    """Rules 3 and 4: pronouns and unattributed quotes take a nearby quote's speaker."""
    para_of = [text.count("\n", 0, q.start) for q in quotes]
    last_speaker: Entity | None = None
    for i, q in enumerate(quotes):
        if q.speaker is None:
            same_para = [o.speaker for j, o in enumerate(quotes) if para_of[j] == para_of[i] and o.speaker]
            if q.resolution == "pronoun" and (q.hint or last_speaker) is not None:
                q.speaker = q.hint or last_speaker
            elif same_para:
                q.speaker, q.resolution = same_para[0], "paragraph"
                q.verb = q.verb or next(o.verb for o in quotes if o.speaker is same_para[0])
            elif last_speaker is not None and _whole_paragraph(text, q):
                q.speaker, q.resolution = last_speaker, "continuation"
            elif q.resolution == "pronoun":
                q.resolution = None
        if q.speaker is not None:
            last_speaker = q.speaker


def _whole_paragraph(text: str, q: Quote) -> bool:
    start = text.rfind("\n", 0, q.start) + 1
    end = _next_para(text, q.end)
    rest = (text[start : q.start] + text[q.end : end]).strip(' \u00a0"“”«».,')
    return not rest


def quotes_of(doc: Doc, entities: list[Entity]) -> list[Quote]:
    """The quotes of the parsed ``doc``, speakers taken from ``entities`` (its merged entities)."""
    starts = [start for start, _ in doc.sentences]
    titles = [(e.start_char, e.end_char) for e in doc.spacy.ents if e.label_ in _TITLE_LABELS]
    return extract_quotes(doc.parsed_text, starts, entities, titles)
