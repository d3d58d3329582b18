"""The code blocks of a documentation page, as a test runs them (``tests/e2e/test_docs_examples.py``).

Every fenced block of a page is an example. A block runs unless an HTML comment right before it (invisible
on the site) says otherwise:

- ``<!-- docs-test: covered-by tests/e2e/test_dev.py -->``: the block is exercised by that test file instead
  (for ``make run``, which runs until Ctrl-C); the docs test checks the file exists and mentions the command.
- ``<!-- docs-test: requires kcat -->``: the block needs that program on PATH (the test skips it otherwise,
  saying so).
- ``<!-- docs-test: output -->``: the block is output or a listing shown to the reader, not something to run.
- ``<!-- docs-test: runs-for 8 -->``: the block runs until it is stopped (a live stream): the test runs it for
  that many seconds and counts it as working when it has not failed by then.

A page's addresses and names are the defaults (``127.0.0.1:9092``, ``news.raw``, ...): :func:`localise`
rewrites them to the test stack's before a block runs, so the pages stay what a reader types.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Example", "examples", "localise"]

_FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})(?P<info>[^\n`]*)$")
_DIRECTIVE = re.compile(r"<!--\s*docs-test:\s*(?P<kind>covered-by|requires|output|runs-for)\s*(?P<arg>[^>]*?)\s*-->")


@dataclass(frozen=True)
class Example:
    """One fenced block: its language, code, the line it starts on, and the directive before it (if any)."""

    page: str
    line: int
    language: str
    code: str
    directive: str | None = None  # "covered-by", "requires", "output", "runs-for"
    argument: str = ""

    @property
    def runs(self) -> bool:
        return self.directive in (None, "requires", "runs-for")

    def __str__(self) -> str:
        return f"{self.page}:{self.line} ({self.language})"


def examples(path: Path) -> list[Example]:
    """Every fenced code block of a Markdown page, in order, with the directive that precedes it."""
    lines = path.read_text(encoding="utf-8").splitlines()
    out: list[Example] = []
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, start = m["fence"], i
        body: list[str] = []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(fence):
            body.append(lines[i][len(m["indent"]) :])
            i += 1
        i += 1  # the closing fence
        directive = argument = None
        j = start - 1
        while j >= 0 and not lines[j].strip():
            j -= 1
        if j >= 0 and (d := _DIRECTIVE.search(lines[j])):
            directive, argument = d["kind"], d["arg"]
        language = (m["info"].strip().split() or [""])[0].lstrip(".{")
        out.append(Example(path.name, start + 1, language, "\n".join(body) + "\n", directive, argument or ""))
    return out


def localise(code: str, replacements: Mapping[str, str]) -> str:
    """``code`` with each default address or name replaced by the test stack's, matched as a whole token
    (``news.raw`` but not ``news.rawest``), longest first."""
    for old in sorted(replacements, key=len, reverse=True):
        code = re.sub(rf"(?<![\w.-]){re.escape(old)}(?![\w-]|\.\w)", replacements[old], code)
    return code
