"""Direct quotes with their speaker (resolved to the full entity name) and verb.

Quotes are found per paragraph between quotation marks (:func:`find_quoted_spans`: straight and
curly, « », „ “, ‚ ‘, »«, ” ”, 「」). A quoted span is kept when it has at least three words and is not
the title of a work ("Meet the Press") or a one-word scare quote. ``partial`` marks a fragment woven
into reported speech (it starts lowercase and is not introduced by a colon).

The speaker is looked for in this order:

0. A transcript label opening the quote: ``"PENCE: We will ..."``.
1. After the quote, in the rest of its sentence (after a quote ending with ?, ! or …, the sentence the
   following text is in): a dash and a name (``"..." ― Jane Doe``); else a speech verb ("said",
   "added", "a déclaré", "dijo", "sagte", "disse", "ha detto", "zei", "قال", "according to", ... from
   ``data/speech_verbs_<lang>.txt``) and, in order, the name opening an apposition before it
   (``"...," Jacob Leibenluft, a senior policy adviser with the Clinton campaign, said``), the person
   (else organisation) named last before it, a capitalised name just before it that NER missed
   (``"...?" Vitter demanded``), the name just after it (``said Kenneth Baer, a former ...``; not
   after "told"/"asked", whose object is the listener), else the first entity after it.
2. Before the quote, in its sentence (or the sentence before it that ends with a colon or with
   "..., X said."): the last speech verb and the person nearest before it, else the one right after it
   (``Said Ellis: "..."``, Arabic ``وقال محمد علي: «...»``); else a nominal attribution
   (``Trump's claim that there have been "thousands of shootings"``).
3. A pronoun (he/she/il/elle/él/ella/er/sie/ele/ela/lui/lei/hij/zij/هو/هي) next to the verb: of the
   people named as a subject in the 400 characters before the quote, the previous quote's speaker
   and the other people named before it, the first whose gender does not contradict the pronoun (their
   title in the article, Mr., Mrs., ..., else a clearly gendered first name from
   ``data/first_name_genders.tsv``). A subject pronoun right before the verb ("she said", "they wrote")
   is the speaker: a name after the verb is then not. A definite description of a role next to the verb
   instead of a name (``"...," the German midfielder said``, ``», a confié le coureur de Visma-Lease a Bike``): the last
   person named in the paragraph before the quote. The role nouns are in ``data/speaker_roles.yaml``
   (a capitalised demonym counts: "the Serb"); spokespeople are not roles, so ``"...," the ministry
   spokesman said`` does not point back to anyone.
4. No attribution: the speaker of another quote in the same paragraph, or of the previous paragraph's
   last quote when the paragraph is only the quote.

Names come from the merged entities, so "Kirby" is reported as "John Kirby"; a name NER did not tag is
resolved to a known person by its surname, else reported as written, and a known person's surname NER did
not tag elsewhere is a mention of them. A name with a title is its head person ("Harbor Authority Chairman
Leon Marsh" is Marsh). Before the quote, a name inside another quote of the sentence is no speaker, a person
opening the sentence before an apposition is the subject ("Nora Ellis, who advises ..., said"), and a
sentence ending with a colon and no speech verb names its subject. ``resolution`` says which rule
gave the speaker (``entity``, ``pronoun``, ``description``, ``paragraph``, ``continuation``);
``speaker`` is None when none applies. :func:`quotes_of` reads a parsed article; the quotes field
reports what it finds. Quality on PolNeAR: ``docs/enrichment/quotes.md``.
"""

from __future__ import annotations

import bisect
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import regex
import yaml

from shared.textfold import fold_name as fold

from .entities import Entity, first_names
from .gazetteer import get_gazetteer

if TYPE_CHECKING:
    from .doc import Doc

__all__ = ["VERB_LANGUAGES", "VERSION", "Quote", "extract_quotes", "find_quoted_spans", "quotes_of"]

VERSION = "2"
_DATA = Path(__file__).resolve().parent.parent / "data"
#: The languages with a speech-verb file ``data/speech_verbs_<lang>.txt``.
VERB_LANGUAGES = ("en", "fr", "es", "de", "pt", "it", "nl", "ar")
# Each opening mark and the marks that close it (wire copy mixes straight and curly). A straight "
# alternates; ” opens (and closes) only in a paragraph with no “ or „ (Swedish/Finnish ”…”); » opens only
# right before a word in a paragraph where it comes before any « (German/Danish »Wir…«, not a French
# quote closing); ‚ opens a German single quote closed by ‘.
_CLOSERS = {"“": '”"', "«": '»"', "„": '“”"', "「": "」", "『": "』", "‚": "‘’", '"': '"”', "”": "”", "»": "«"}
_MARKS = regex.compile("[" + regex.escape("".join(sorted(set("".join(_CLOSERS.values())) | set(_CLOSERS)))) + "]")
_OPENERS = frozenset("“«„「『")  # what _next_quote takes for the start of the next quote


def _speech_verbs() -> list[str]:
    """Every language's speech verbs (``data/speech_verbs_<lang>.txt``, one a line, ``#`` comments)."""
    verbs: list[str] = []
    for lang in VERB_LANGUAGES:
        lines = (_DATA / f"speech_verbs_{lang}.txt").read_text(encoding="utf-8").splitlines()
        verbs += [v.strip() for v in lines if v.strip() and not v.startswith("#")]
    return verbs


_SPEECH = _speech_verbs()
_VERB = regex.compile(
    r"(?<![\p{L}])(" + "|".join(regex.escape(v) for v in sorted(set(_SPEECH), key=len, reverse=True)) + r")(?![\p{L}])",
    regex.IGNORECASE,
)
# he/she in English, French, Spanish, German, Portuguese, Italian, Dutch and Arabic ("sie" and "ze" are
# also "they": a plural speaker is no one person, and the quote then takes the person named before)
_PRONOUN = regex.compile(
    r"(?<![\p{L}])(he|she|il|elle|él|ella|er|sie|ele|ela|lui|lei|hij|zij|ze|هو|هي)(?![\p{L}])", regex.IGNORECASE
)
_PRONOUN_REACH = 400
_CAPITALISED = regex.compile(r"\p{Lu}[\p{L}\-'’]+")
_TITLE_LABELS = frozenset({"WORK_OF_ART", "EVENT", "PRODUCT", "LAW"})
_ROLES_FILE = _DATA / "speaker_roles.yaml"
_DEFINITE = frozenset({"the", "le", "la", "l'", "el"})
_WORD = regex.compile(r"[\p{L}\p{N}](?:[\p{L}\p{N}\-'’]*[\p{L}\p{N}])?")
_ROLE_REACH = 4  # words between the determiner and the role noun, at most
_COMPLEMENT = frozenset({"of", "for", "at", "de", "du", "des", "d'", "del"})  # _words writes "d’" as "d'"


# a name: capitalised words, initials and titles with a dot ("Sen.", "J."), up to five
_NAME = r"((?:\p{Lu}[\p{L}\-'’]*\.?\s+|\p{Lu}\.\s*){0,4}\p{Lu}[\p{L}\-'’]+)"
_DASH_NAME = regex.compile(r"[,.]?\s*[—―–]\s*" + _NAME + r"\s*(?:[,.;]|$)", regex.MULTILINE)
_NAME_BEFORE_VERB = regex.compile(r"[,.?!…]*\s+" + _NAME + r"\s+")
# the name ends the clause or a place follows ("said Del. Stacey Plaskett of the Virgin Islands"); a title
# abbreviation ("Rep." before "Elijah") is no end
_NAME_AFTER_VERB = regex.compile(r"\s+" + _NAME + r"(?![.]\s+\p{Lu})(?=\s*[,.;(]|\s*$|\s+(?:of|from|at|in)\s)")
_HONORIFIC = regex.compile(r"(?<![\p{L}])(Mr|Mrs|Ms|Miss|Mme|Mlle|Sra|Herr|Frau|Sr)\.?\s+$")
_MALE_TITLES = frozenset({"mr", "herr", "sr"})
_PRONOUN_GENDER = {"he": "m", "il": "m", "él": "m", "er": "m", "ele": "m", "lui": "m", "hij": "m", "هو": "m",
                   "she": "f", "elle": "f", "ella": "f", "ela": "f", "lei": "f", "هي": "f"}  # fmt: skip
_LABEL = regex.compile(r"(\p{Lu}[\p{Lu}\-'’]+(?:\s+\p{Lu}[\p{Lu}\-'’]+)?):\s")  # an upper-case name, a colon
_NOMINAL = regex.compile(
    _NAME + r"['’]s\s+(?:\p{Ll}+\s+){0,2}(claims?|statements?|remarks?|comments?|words|assertions?|promises?|"
    r"pledges?|warnings?|messages?|tweets?)(?![\p{L}])"
)
# "..., Schiff said." / "Rosa said to the neighbours." / "Okafor said on Tuesday."
_ENDS_WITH_VERB = regex.compile(
    r"(?<![\p{L}])(?:said|says|added|adds|wrote|told reporters)(?:\s+[\p{L}\p{N}'’.-]+){0,3}\.$"
)
# a name opening its clause (after a quote's closing mark, a comma or a colon, or opening the sentence), then
# only the verb ('...," Okafor said', "Harbor Watch asked"); not one after a lowercase word ("ministra de Sanidad")
_NAME_ENDING = regex.compile(r"(?:^|[,:\"”»])\s*" + _NAME + r"\s+$")
# after a name: ", a ...", ", who ...", " (D), the mayor's ..."
_APPOSED = regex.compile(r"\s*(?:\([^()]{1,30}\)\s*)?,\s*(?:\p{Ll}|\p{Lu}[\p{L}\-'’]*['’]s\s)")
_LEAD = regex.compile(r"(?:^|[.!?\n:])([^.!?\n:]{0,60})$")  # the words opening a sentence before a mention
_CONTRACTION = regex.compile(r"['’]\p{L}{1,2}$")
_CLOSING = frozenset('"”»«“')
_APPOSITION = regex.compile(r"[,.?!…]*\s+" + _NAME + r"\s*,[^\"“”«»\n]{3,}?,\s*")
_TO_LISTENER = frozenset({"told", "tells", "asked", "asks"})  # a name after these is the one spoken to
# a subject pronoun right before the verb ("she said", "they wrote"): a name after the verb is then no speaker
_SUBJECT_PRONOUN = regex.compile(
    r"(?<![\p{L}])(?:he|she|they|it|i|we|il|elle|ils|elles|on|él|ella|ellos|ellas|er|sie|es|wir|ele|ela|eles|elas|"
    r"lui|lei|loro|hij|zij|ze|wij|هو|هي|هم)\s*$",
    regex.IGNORECASE,
)
# capitalised words that are no name after a quote ("...," The Post reported is a name; "The" alone is not)
_NOT_NAMES = frozenset(
    {"the", "a", "an", "this", "that", "i", "we", "you", "they", "it", "but", "and", "le", "la", "el"}
)


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
    pronoun: str | None = None  # the pronoun next to the verb, when that is all there is
    subjects: list[Entity] = field(default_factory=list)  # for a pronoun: people named as subjects before, last first
    others: list[Entity] = field(default_factory=list)  # for a pronoun: the other people named before, last first
    after: int = 0  # where the previous quote ends


def find_quoted_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of the text between each pair of quotation marks, paragraph by paragraph.

    ``“ ”``, ``« »``, ``„ “`` (or ``„ ”``), ``‚ ‘``, ``「 」``, ``『 』`` pair up; a straight ``"`` opens
    when none is open and closes otherwise; ``”`` does the same in a paragraph without ``“`` or ``„``
    (``”…”``), and ``»`` opens right before a word in a paragraph where it comes before any ``«``
    (``»Wir…«``; a French ``»`` closing a quote from the paragraph before opens nothing). Marks inside an
    open quote other than its closers are text. A quote left open at the end of a paragraph runs to the
    paragraph's end when it is longer than 40 characters.
    """
    spans = []
    pos = 0
    for para in text.split("\n"):
        opened, closers = -1, ""
        curly_open = "“" in para or "„" in para
        guillemet = para.find("«")
        reversed_guillemets = "»" in para and (guillemet < 0 or para.find("»") < guillemet)
        for mark in _MARKS.finditer(para):  # only the marks matter: the loop skips every other character
            i, ch = mark.start(), mark.group(0)
            if opened >= 0:
                if ch in closers:
                    spans.append((pos + opened + 1, pos + i))
                    opened = -1
                continue
            german = ch == "»" and reversed_guillemets and para[i + 1 : i + 2].isalnum()  # »Wir ...«
            if ch in _CLOSERS and (ch != "”" or not curly_open) and (ch != "»" or german):
                if ch == "‚" and not regex.match(r"\s?\p{L}", para[i + 1 : i + 3]):
                    continue  # a low comma-like mark not opening a word
                opened, closers = i, _CLOSERS[ch]
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
    mentions = _with_untagged_names(text, mentions, names)
    quotes: list[Quote] = []
    quoted = find_quoted_spans(text)
    for raw_start, raw_end in quoted:
        start, end = _trim(text, raw_start, raw_end)
        body = text[start:end]
        if len(body.split()) < 3 or any(a <= start + 1 and end - 1 <= b for a, b in title_spans):
            continue
        if len(body.split()) <= 4 and all(w[:1].isupper() for w in body.split() if len(w) > 3):
            continue  # a title in quotes
        before = text[max(0, raw_start - 3) : raw_start - 1].rstrip()
        first = body.lstrip(" .…")[:1]
        partial = first.islower() and not before.endswith(":")
        q = Quote(start, end, body, partial, after=quotes[-1].end + 1 if quotes else 0)
        label = _LABEL.match(body)  # a transcript: "PENCE: Well, look, ..."
        if label and _capitalised_name(label.group(1)):
            q.speaker, q.resolution = _resolve(label.group(1), start, mentions, names), "entity"
        else:
            _attribute(q, text, raw_start - 1, raw_end + 1, sent_starts, mentions, names, quoted)
        quotes.append(q)
    _propagate(quotes, text, _genders(text, mentions))
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


def _with_untagged_names(
    text: str, mentions: list[tuple[int, int, Entity]], names: dict[str, Entity]
) -> list[tuple[int, int, Entity]]:
    """``mentions`` and the capitalised words NER did not tag that are a known person's name or surname ("Gen.
    Walter Crane spoke ... Crane said": the second "Crane" is Walter Crane), in text order."""
    spans = [text[s:e] for s, e, ent in mentions if ent.type == "person"]
    words = {w[:-2] if w.endswith(("'s", "’s")) else w for span in spans for w in span.split() if w[:1].isupper()}
    starts = [s for s, _, _ in mentions]
    extra = []
    for word in words:
        ent = names.get(fold(word))
        if ent is None:
            continue
        at = text.find(word)
        while at >= 0:
            end = at + len(word)
            whole = not text[at - 1 : at].isalpha() and not text[end : end + 1].isalpha()
            i = bisect.bisect_right(starts, at) - 1
            if whole and not (i >= 0 and mentions[i][1] > at):
                extra.append((at, end, ent))
            at = text.find(word, end)
    return sorted([*mentions, *extra], key=lambda x: x[0]) if extra else mentions


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
    quoted: list[tuple[int, int]],
) -> None:
    """Set speaker and verb of ``q`` from the sentence around it (rules 1-3 of the module doc).

    When NER missed the speaker's mention ("Modi said" untagged), a
    capitalised word equal to a known person's surname stands for them, and
    a capitalised name right after the quote and before the verb (or after a
    dash: ``"..." — Jane Doe``) is the speaker even when NER did not tag it.
    """
    # 1. after the quote, up to the end of the sentence (or the next quote); after a quote ending with ?, !
    # or … the sentence is the one the text after the closing mark is in ("“...?” Clinton said.": a
    # sentence splitter ends one at ?”)
    para_end = _next_para(text, close_at)
    probe = close_at
    if text[: close_at - 1].rstrip()[-1:] in ("?", "!", "…"):
        while probe < para_end and text[probe] in " \u00a0\t":
            probe += 1
    _, after_end = _sentence_bounds(probe, sent_starts, len(text))
    after_end = min(after_end, close_at + 160, para_end)
    nxt = _next_quote(text, close_at, after_end)
    window = text[close_at:nxt]
    dashed = _DASH_NAME.match(text, close_at, para_end)
    if dashed and _capitalised_name(dashed.group(1)):  # "..." ― Pamela Padilla
        q.speaker, q.resolution = _resolve(dashed.group(1), dashed.start(1), mentions, names), "entity"
        return
    m = _VERB.search(window)
    if m and m.start() < 100:
        verb_s, verb_e = close_at + m.start(), close_at + m.end()
        who = _within(mentions, close_at, min(verb_e + 60, nxt))
        # nearest to the verb: the last one before it, else the first one after it
        pre = [x for x in who if x[1] <= verb_s]
        post = [x for x in who if x[0] >= verb_e]
        role_after = _role_after(text[verb_e:nxt])
        named_end = min(verb_e + 40, nxt)
        if role_after is not None:  # "a confié le coureur de Visma-Lease": a name in the complement is not the
            complement = verb_e + role_after  # speaker; one in apposition after a comma is
            post = [x for x in post if x[0] < complement or "," in text[complement : x[0]]]
            named_end = min(named_end, complement)
        pick = (
            _apposition_head(text, close_at, verb_s, mentions, names)
            or _best(pre[::-1])
            or _name_before_verb(text, close_at, verb_s, mentions, names)
        )
        # "told Bill O'Reilly": the listener; "she said after reading the Acme statement": the pronoun
        by_pronoun = _SUBJECT_PRONOUN.search(text, max(close_at, verb_s - 12), verb_s) is not None
        if pick is None and fold(m.group(1)) not in _TO_LISTENER and not by_pronoun:
            pick = _name_after_verb(text, verb_e, nxt, mentions, names) or _best(post)
        if not by_pronoun:
            pick = pick or _named_in(text[close_at:named_end], names)
        described = (pick is None or pick.type != "person") and (
            role_after is not None or _role_before(text[close_at:verb_s])
        )
        if _settle(q, m.group(1), pick, described, text[close_at : verb_e + 6], open_at, text, mentions):
            return
    # 2. before the quote, from the start of its sentence; a quote that opens its sentence after a colon
    # ("In one tweet, Trump said: “...", or a paragraph "Caddell continued:" before it) is introduced by the
    # sentence ending with the colon, and one that follows "..., Schiff said." in its paragraph by that one
    sent_start, _ = _sentence_bounds(open_at, sent_starts, len(text))
    probe = open_at
    if not text[sent_start:open_at].strip():
        before = text[:open_at].rstrip()
        prev_start, _ = _sentence_bounds(max(0, len(before) - 1), sent_starts, len(text))
        # or after a sentence of its paragraph that ends with its speech verb ("..., Schiff said. “...")
        said = (
            before.endswith(".")
            and "\n" not in text[prev_start:open_at]
            and _ENDS_WITH_VERB.search(before, max(prev_start, len(before) - 80))
        )
        if not before.endswith(":") and not said:
            return
        probe, sent_start = len(before), prev_start
    window = text[sent_start:probe]
    verbs = list(_VERB.finditer(window))
    if verbs:
        m = verbs[-1]
        verb_s = sent_start + m.start()
        # a name inside another quote of the sentence ('"Ask Tom Fry," Okafor said, "because ..."') is not
        # this one's speaker
        who = [x for x in _within(mentions, sent_start, verb_s) if not _inside(x[0], quoted)]
        closed = max((i + 1 for i, ch in enumerate(window[: m.start()]) if ch in _CLOSING), default=0)
        # the verb first, then who speaks ("Said Ellis: ...", Arabic "وقال محمد علي: ...")
        verb_e = sent_start + m.end()
        # (a name NER ran into the verb, "Said Ellis", counts as right after it)
        then = [x for x in _within(mentions, verb_s, probe) if not text[verb_e : x[0]].strip()]
        subject_pronoun = _SUBJECT_PRONOUN.search(text, max(sent_start, verb_s - 12), verb_s)
        if subject_pronoun:  # "He said Anna Kim was ...": Anna Kim is no speaker
            then = []
            if _PRONOUN.fullmatch(subject_pronoun.group(0).strip()):  # "Jane Holt says she admires Mark Vance for
                who = []  # what she calls ...": she, not Mark Vance
        else:  # "Nora Ellis, who advises Sam Ortiz, said, ...": the subject before the apposition
            who = _subject_with_apposition(text, sent_start, who) or who
        untagged = _untagged_before_verb(text, sent_start + closed, verb_s, mentions, names)
        pick = _best(who[::-1]) or untagged or _named_in(text[sent_start + closed : verb_s], names) or _best(then)
        described = pick is None and _role_before(window[closed : m.start()])
        _settle(q, m.group(1), pick, described, window[closed:], open_at, text, mentions)
        return
    if window.rstrip().endswith(":"):  # "Ruth Kane made the following statement:": the colon's subject
        subject = next((x for x in _within(mentions, sent_start, probe) if _as_subject(text, x[0], x[1])), None)
        if subject is not None and subject[2].type == "person":
            q.speaker, q.resolution = subject[2], "entity"
            return
    # a nominal attribution: "Trump's claim that there have been “thousands of shootings”"
    nominal = list(_NOMINAL.finditer(window))
    if nominal and _capitalised_name(nominal[-1].group(1)):
        n = nominal[-1]
        q.speaker = _resolve(n.group(1), sent_start + n.start(1), mentions, names)
        q.verb, q.resolution = n.group(2), "entity"


def _apposition_head(
    text: str, close_at: int, verb_s: int, mentions: list[tuple[int, int, Entity]], names: dict[str, Entity]
) -> Entity | None:
    """The name right after the quote when an apposition separates it from the verb: ``"...," Jacob
    Leibenluft, a senior policy adviser with the Clinton campaign, said`` -> Leibenluft (not Clinton,
    named in the apposition)."""
    m = _APPOSITION.fullmatch(text, close_at, verb_s)
    if m is None or not _capitalised_name(m.group(1)):
        return None
    return _resolve(m.group(1), m.start(1), mentions, names)


def _name_before_verb(
    text: str, close_at: int, verb_s: int, mentions: list[tuple[int, int, Entity]], names: dict[str, Entity]
) -> Entity | None:
    """A name between the quote and the verb that NER did not tag ("...?" Vitter demanded): the entity it
    names, else the name as written."""
    m = _NAME_BEFORE_VERB.fullmatch(text, close_at, verb_s)
    return _resolve(m.group(1), m.start(1), mentions, names) if m and _capitalised_name(m.group(1)) else None


def _name_after_verb(
    text: str, verb_e: int, end: int, mentions: list[tuple[int, int, Entity]], names: dict[str, Entity]
) -> Entity | None:
    """The name right after the verb, ending there or before a comma ("...," said Kenneth Baer, a former
    Obama administration official): the entity it names, else the name as written."""
    m = _NAME_AFTER_VERB.match(text, verb_e, end)
    return _resolve(m.group(1), m.start(1), mentions, names) if m and _capitalised_name(m.group(1)) else None


def _capitalised_name(run: str) -> bool:
    """``run`` reads as a name: not a pronoun, article or other function word written with a capital."""
    words = [_CONTRACTION.sub("", w) for w in run.split()]  # "He’s", "I’m"
    return bool(words) and fold(words[0]) not in _NOT_NAMES and not _PRONOUN.fullmatch(words[0])


def _subject_with_apposition(
    text: str, sent_start: int, who: list[tuple[int, int, Entity]]
) -> list[tuple[int, int, Entity]]:
    """``[the person opening the sentence]`` when an apposition or relative clause follows them ("Nora
    Ellis, who advises Governor Sam Ortiz, said", "Ana Ruiz (D), the mayor's rival, called"), else []."""
    if not who or who[0][2].type != "person" or len(text[sent_start : who[0][0]].split()) > 2:
        return []
    return who[:1] if _APPOSED.match(text, who[0][1]) else []


def _within(mentions: list[tuple[int, int, Entity]], start: int, end: int) -> list[tuple[int, int, Entity]]:
    """The mentions (sorted by start) that lie in ``start:end``."""
    lo = bisect.bisect_left(mentions, start, key=lambda m: m[0])
    hi = bisect.bisect_left(mentions, end, lo, key=lambda m: m[0])
    return [x for x in mentions[lo:hi] if x[1] <= end]


def _inside(pos: int, spans: list[tuple[int, int]]) -> bool:
    """``pos`` lies in one of the sorted ``spans``."""
    i = bisect.bisect_right(spans, (pos, 1 << 62)) - 1
    return i >= 0 and spans[i][0] <= pos < spans[i][1]


def _untagged_before_verb(
    text: str, start: int, verb_s: int, mentions: list[tuple[int, int, Entity]], names: dict[str, Entity]
) -> Entity | None:
    """A name NER did not tag opening the clause of the verb at ``verb_s`` (the clause starting at ``start`` at the
    earliest): the entity it names, else the name as written. Its first word (the whole name after a quote or a
    comma if it is one word) must not be written in lowercase elsewhere in the article: "Officials said", and a
    sentence opening "Und Trainer meinte" or "Según manifestó", are common words with a capital."""
    lo = max(start, verb_s - 80)
    named = _NAME_ENDING.search(text[lo:verb_s])
    if named is None or (named.start() == 0 and lo > start) or not _capitalised_name(named.group(1)):
        return None
    words = named.group(1).split()
    opening = not text[lo : lo + named.start(1)].strip()  # it opens the sentence
    if (opening or len(words) == 1) and _lowercase_in(words[0], text):
        return None
    return _resolve(named.group(1), lo + named.start(1), mentions, names)


def _lowercase_in(word: str, text: str) -> bool:
    """``word`` is also written in lowercase in ``text``."""
    return regex.search(r"(?<![\p{L}])" + regex.escape(word.lower()) + r"(?![\p{L}])", text) is not None


def _resolve(run: str, at: int, mentions: list[tuple[int, int, Entity]], names: dict[str, Entity]) -> Entity:
    """The entity a name written at ``at`` is: a mention within it, else a known person by name or
    surname, else a new person entity of that name."""
    inside = [ent for s, e, ent in mentions if s < at + len(run) and at < e]  # "Finanzminister Lars Klingbeil"
    if inside:  # the head ends the name: "Harbor Authority Chairman Leon Marsh" is Marsh, not the authority
        return next((ent for ent in reversed(inside) if ent.type == "person"), inside[-1])
    known = names.get(fold(run)) or names.get(fold(run.split()[-1]))
    return known if known is not None else Entity(type="person", name=run, key=fold(run))


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
    a pronoun in ``pronoun_span`` (no speaker yet: the people named before it, for :func:`_propagate`). True if set."""
    if described:
        ref = _last_person_in_paragraph(open_at, text, mentions)
        if ref is not None:
            q.speaker, q.verb, q.resolution = ref, verb, "description"
            return True
    if pick is not None:
        q.speaker, q.verb, q.resolution = pick, verb, "entity"
        return True
    pronoun = _PRONOUN.search(pronoun_span)
    if pronoun:
        q.verb, q.resolution, q.pronoun = verb, "pronoun", pronoun.group(1).lower()
        q.subjects = _people_before(open_at, text, mentions, subject=True)
        q.others = [p for p in _people_before(open_at, text, mentions, subject=False) if p not in q.subjects]
        return True
    return False


def _people_before(pos: int, text: str, mentions: list[tuple[int, int, Entity]], subject: bool) -> list[Entity]:
    """The people named in the ``_PRONOUN_REACH`` characters before ``pos``, the last named first; with
    ``subject``, only those named as a subject (opening a sentence, or just before a speech verb: "Trump
    responded ... He said:")."""
    before = [x for x in _within(mentions, pos - _PRONOUN_REACH, pos) if x[2].type == "person"]
    if subject:
        before = [x for x in before if _as_subject(text, x[0], x[1])]
    out: list[Entity] = []
    for _, _, ent in reversed(before):
        if ent not in out:
            out.append(ent)
    return out


def _genders(text: str, mentions: list[tuple[int, int, Entity]]) -> dict[int, str]:
    """What the article itself says of each person's grammatical gender (``id(entity)`` -> "m" / "f"): a
    Mr./Herr/Sr. or a Mrs./Ms./Miss/Mme/Mlle/Frau/Sra. before their mentions. Undecided (no title, or as
    many of each) is left out. (Guessing from the pronoun that follows a mention was tried and measured
    worse: the next "he" is too often someone else.)"""
    people = [m for m in mentions if m[2].type == "person"]
    votes: dict[int, list[int]] = {}
    for s, _, ent in people:
        tally = votes.setdefault(id(ent), [0, 0])
        title = _HONORIFIC.search(text, max(0, s - 6), s)
        if title:
            tally[0 if title.group(1).lower() in _MALE_TITLES else 1] += 1
    decided = {k: "m" if m > f else "f" for k, (m, f) in votes.items() if m != f}
    for _, _, ent in people:  # no title either way: the first name, when it is a clear one ("Karen Walsh")
        words = ent.name.split()
        if id(ent) not in decided and len(words) >= 2 and not words[0].endswith("."):
            gender = first_names().get(fold(words[0]))
            if gender is not None:
                decided[id(ent)] = gender
    return decided


def _as_subject(text: str, start: int, end: int) -> bool:
    """The mention at ``start:end`` opens its sentence or paragraph (after at most two words, no comma,
    pronoun or speech verb: "Republican leader Mitch McConnell"), or a speech verb follows it."""
    lead = _LEAD.search(text[max(0, start - 61) : start])
    words = lead.group(1) if lead is not None else ","
    # at most two words, or a title of capitalised words ("Grand Jury Foreman Ellis Quade")
    short = len(words.split()) <= 2 or (len(words.split()) <= 4 and all(w[:1].isupper() for w in words.split()))
    if "," not in words and short and not _PRONOUN.search(words) and not _VERB.search(words):
        return True  # not "She says Trump's tweets ...": the object of someone else's verb
    verb = _VERB.match(text, end + 1, end + 40) if text[end : end + 1] == " " else None
    return verb is not None


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
    before = [x for x in _within(mentions, para_start, pos) if x[2].type == "person"]
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
        if text[i] in _OPENERS or (text[i] == '"' and i > 0 and text[i - 1] in " \u00a0:"):
            return i
    return end


def _propagate(quotes: list[Quote], text: str, genders: dict[int, str]) -> None:
    """Rules 3 and 4: pronouns and unattributed quotes take a nearby quote's speaker.

    A pronoun takes, of the people named as a subject before it, the previous quote's speaker and the
    other people named before it (in that order), the first whose gender the article does not contradict
    (``genders``; "she said" is not Donald Trump when the article calls him "he")."""
    para_of = [text.count("\n", 0, q.start) for q in quotes]
    last_speaker: Entity | None = None
    for i, q in enumerate(quotes):
        if q.speaker is None:
            same_para = [o.speaker for j, o in enumerate(quotes) if para_of[j] == para_of[i] and o.speaker]
            wanted = _PRONOUN_GENDER.get(q.pronoun or "")
            ranked = [*q.subjects, *([last_speaker] if last_speaker else []), *q.others]
            fits = [p for p in ranked if wanted is None or genders.get(id(p), wanted) == wanted]
            if q.resolution == "pronoun" and fits:
                q.speaker = fits[0]
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
