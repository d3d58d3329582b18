"""Build ``services/enrich/data/first_name_genders.tsv`` from the nomquamgender name data.

    python scripts/first_name_genders.py PATH/TO/nomquamgender/name_data.json

nomquamgender (Van Buskirk, Clauset & Larremore 2023, "An open-source cultural consensus approach to
name-based gender classification"; MIT licence, PyPI ``nomquamgender==0.1.4``) ships ``name_data.json``:
for each given name (lowercase, ASCII-folded), the number of sources and of people it was counted over
and p(gf), the share of them gendered female. The quotes stage only needs the names that are clearly
one or the other, so the file keeps a name seen in at least ``MIN_SOURCES`` sources over at least
``MIN_COUNT`` people with p(gf) <= ``CUT`` (``m``) or >= 1 - ``CUT`` (``f``): about 18,000 names,
170 kB. Read the wheel's data file by path (``pip download --no-deps nomquamgender==0.1.4``, unzip): the
package itself (pandas, numpy) is not a dependency.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

MIN_SOURCES = 5
MIN_COUNT = 50
CUT = 0.1
OUT = Path(__file__).resolve().parents[1] / "services" / "enrich" / "data" / "first_name_genders.tsv"
HEADER = """\
# First names whose gender is clear, for the quotes stage's pronoun resolution ("she said" is not Donald).
# Derived from nomquamgender 0.1.4 name_data.json by scripts/first_name_genders.py (its module doc has the
# thresholds). nomquamgender: Copyright (c) 2022 Ian Van Buskirk, MIT licence:
# Permission is hereby granted, free of charge, to any person obtaining a copy of this software and
# associated documentation files (the "Software"), to deal in the Software without restriction, including
# without limitation the rights to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
# copies of the Software, and to permit persons to whom the Software is furnished to do so, subject to the
# following conditions: The above copyright notice and this permission notice shall be included in all
# copies or substantial portions of the Software.
# THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED.
# name<TAB>m|f
"""


def build(data: dict[str, list[object]]) -> list[tuple[str, str]]:
    """``(name, "m" | "f")`` for each clearly gendered name of nomquamgender's ``data``, sorted."""
    out = []
    for name, row in data.items():
        sources, count, pgf = row[0], row[1], row[2]
        if not (isinstance(sources, int) and isinstance(count, int) and isinstance(pgf, float | int)):
            continue
        if sources < MIN_SOURCES or count < MIN_COUNT or not re.fullmatch(r"[a-z]+(?:-[a-z]+)?", name):
            continue
        if pgf <= CUT:
            out.append((name, "m"))
        elif pgf >= 1 - CUT:
            out.append((name, "f"))
    return sorted(out)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__)
        return 2
    rows = build(json.loads(Path(argv[0]).read_text(encoding="utf-8")))
    OUT.write_text(HEADER + "".join(f"{n}\t{g}\n" for n, g in rows), encoding="utf-8")
    print(f"{len(rows)} names -> {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
