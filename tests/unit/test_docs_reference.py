"""The generated reference pages (devtools/reference.py): every setting documented, every topic listed."""

from __future__ import annotations

from pathlib import Path

import yaml

from devtools.reference import messages_markdown, settings_markdown, settings_rows
from shared.settings import Settings

ROOT = Path(__file__).resolve().parent.parent.parent


def test_every_setting_has_a_description_and_a_row() -> None:
    rows = settings_rows()
    undocumented = [variable for variable, _, _, description in rows if not description.strip()]
    assert not undocumented, f"settings without a docstring (the reference shows it): {undocumented}"
    page = settings_markdown()
    for name in Settings.model_fields:
        assert f"NEWSFLOW_{name.upper()}" in page
    assert "`NEWSFLOW_KAFKA_SECURITY__SASL_PASSWORD` | secret \\| none | - |" in page
    assert "`NEWSFLOW_OTEL_ENDPOINT` / `OTEL_EXPORTER_OTLP_ENDPOINT`" in page
    assert "| `NEWSFLOW_PARTITIONS` | int | `12` |" in page


def test_the_message_page_lists_every_topic_message_and_schema() -> None:
    document = yaml.safe_load((ROOT / "docs" / "asyncapi.yaml").read_text(encoding="utf-8"))
    page = messages_markdown(document)
    for channel in document["channels"].values():
        assert f"| `{channel['address']}` |" in page
    for name in document["components"]["messages"]:
        assert f"{{#message-{name.lower()}}}" in page
    for name in document["components"]["schemas"]:
        assert f"{{#schema-{name.lower()}}}" in page
    assert "| `news.ingested` | Normalised, deduplicated articles | article id |" in page
