"""MkDocs hook: the settings and message reference pages, generated at every build (devtools/reference.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from mkdocs.structure.files import File, Files

from devtools.reference import messages_markdown, settings_markdown

DOCS = Path(__file__).resolve().parent.parent


def on_files(files: Files, config: Any) -> Files:
    asyncapi = yaml.safe_load((DOCS / "asyncapi.yaml").read_text(encoding="utf-8"))
    for uri, content in (
        ("reference/settings.md", settings_markdown()),
        ("reference/messages.md", messages_markdown(asyncapi)),
    ):
        files.append(File.generated(config, uri, content=content))
    return files
