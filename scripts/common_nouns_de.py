"""Build ``services/enrich/data/common_nouns_de.txt.gz`` from the german-nouns word list (German Wiktionary).

    pip download --no-deps german-nouns==1.2.5 -d /tmp/gn && unzip -o /tmp/gn/german_nouns-1.2.5-*.whl -d /tmp/gn
    python scripts/common_nouns_de.py /tmp/gn/german_nouns/nouns.csv

german-nouns 1.2.5 (Gregor Weichbrodt; PyPI ``german-nouns``, github.com/gambolputty/german-nouns) lists about
100,000 German nouns compiled from the German Wiktionary, each with its parts of speech ("Substantiv",
"Toponym", "Nachname", "Vorname", ...) and its declined forms. Its data is under CC BY-SA 4.0, and so is the
list built here (the header of the file says so). German capitalises every noun, so NER trained on little
data reads many of them as names ("Kuchen", "Plastik", "Saison"); rule ``common_nouns`` of
``services/enrich/analysis/entities.py`` drops a one-word place that is one of them. The list keeps every form
(singular, plural, every case) of a noun no entry gives as a name: a word Wiktionary also lists as a place,
surname, first name or other proper name ("Essen", "Engel", "Europa") is left out, and so are multi-word
entries and affixes. About 255,000 forms; the file is gzip'd text, sorted, a form per line. The package
itself (and its parser dependency) is not a dependency of newsflow.
"""

from __future__ import annotations

import csv
import gzip
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "services" / "enrich" / "data" / "common_nouns_de.txt.gz"
# Parts of speech that make a word a name; an entry with one of these never makes its forms common nouns.
NAMES = frozenset({"Toponym", "Nachname", "Vorname", "Eigenname", "Straßenname"})
# Entries that are nouns but not words of running text
NOT_WORDS = frozenset({"Abkürzung", "Wortverbindung", "Gebundenes Lexem", "Affix", "Suffix", "Präfix"})
FORMS_FROM = 7  # the CSV's columns: lemma, pos, genus 1-4, then the declined forms
HEADER = """\
# German common nouns, every declined form, that the German Wiktionary never lists as a name (rule
# common_nouns of services/enrich/analysis/entities.py). Built by scripts/common_nouns_de.py from
# german-nouns 1.2.5 (Gregor Weichbrodt, github.com/gambolputty/german-nouns), compiled from
# de.wiktionary.org. Licence: CC BY-SA 4.0 (https://creativecommons.org/licenses/by-sa/4.0/), as the source.
"""


def build(rows: list[list[str]]) -> list[str]:
    """The sorted forms of the CSV ``rows`` (header excluded) that are common nouns and never names."""
    common: set[str] = set()
    named: set[str] = set()
    for row in rows:
        if len(row) < 2:
            continue
        pos = set(row[1].split(","))
        forms = {f for f in [row[0], *row[FORMS_FROM:]] if _word(f)}
        if pos & NAMES:
            named |= forms
        elif "Substantiv" in pos and not pos & NOT_WORDS:
            common |= forms
    return sorted(common - named)


def _word(form: str) -> bool:
    """One capitalised word, letters and inner hyphens ("Kuchen", "Eltern-Training")."""
    return len(form) >= 2 and form[0].isupper() and form.replace("-", "").isalpha() and not form.endswith("-")


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__)
        return 2
    with open(argv[0], encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))[1:]
    forms = build(rows)
    body = HEADER + "".join(f"{w}\n" for w in forms)
    OUT.write_bytes(gzip.compress(body.encode("utf-8"), compresslevel=9, mtime=0))
    print(f"{OUT}: {len(forms):,} forms")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
