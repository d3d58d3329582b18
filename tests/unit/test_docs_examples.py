"""How a documentation page's code blocks are read for the docs test (devtools/docs_examples.py)."""

from __future__ import annotations

from pathlib import Path

from devtools.docs_examples import examples, localise


def test_blocks_are_read_in_order_with_the_directive_before_them(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "# Title\n\n```bash\nnewsflow send x\n```\n\n<!-- docs-test: requires kcat -->\n```bash\nkcat -L\n```\n\n"
        "<!-- docs-test: covered-by tests/e2e/test_dev.py -->\n\n```bash\nmake run\n```\n"
        "<!-- docs-test: output -->\n```\nA -> B\n```\n\n- a list item\n\n  ```python\n  print(1)\n  ```\n",
        encoding="utf-8",
    )
    got = examples(page)
    assert [(e.language, e.code, e.directive, e.argument) for e in got] == [
        ("bash", "newsflow send x\n", None, ""),
        ("bash", "kcat -L\n", "requires", "kcat"),
        ("bash", "make run\n", "covered-by", "tests/e2e/test_dev.py"),
        ("", "A -> B\n", "output", ""),
        ("python", "print(1)\n", None, ""),
    ]
    assert [e.runs for e in got] == [True, True, False, False, True]
    assert got[0].line == 3


def test_a_directive_applies_only_to_the_next_block(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text("<!-- docs-test: output -->\n```\nx\n```\ntext\n```bash\ny\n```\n", encoding="utf-8")
    assert [e.directive for e in examples(page)] == ["output", None]


def test_defaults_are_replaced_as_whole_names_only() -> None:
    repl = {"127.0.0.1:9092": "127.0.0.1:4242", "news.raw": "t1.raw", "news.enriched": "t1.enriched"}
    code = 'p.produce("news.raw", x); c.subscribe(["news.enriched"]); kcat -b 127.0.0.1:9092 -t news.rawest'
    assert localise(code, repl) == (
        'p.produce("t1.raw", x); c.subscribe(["t1.enriched"]); kcat -b 127.0.0.1:4242 -t news.rawest'
    )
