"""End to end: pages with no article text and trivially short items go to news.dlq with a code a person can
act on; a results table keeps its fields, processed in a language the enrichers know."""

from __future__ import annotations

import base64

import orjson
import pytest

from shared.settings import Settings

from ..kafkautil import collect, produce

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

NAV_ONLY = "<nav><a href='/'>Home</a></nav>"
NAV_PAGE = (
    "<!doctype html><html lang='en'><head><title>Riverside Gazette</title></head><body>"
    "<nav><a href='/'>Home</a> <a href='/news'>News</a></nav>"
    "<footer><p>Copyright 2026 Riverside Gazette. All rights reserved.</p></footer></body></html>"
)
BRIEF = {
    "title": "Harbour strike ends in Gothenburg",
    "body": "Dock workers in Gothenburg returned to work on Thursday after a two-week strike over pay ended "
    "with a new contract.",
    "source": "Nordic Wire",
}
RESULTS = {
    "title": "ALPINE SKIING - WOMEN'S WORLD CUP DOWNHILL RESULTS",
    "body": "1. Marlies Oberhauser (Austria) 1:38.42\n2. Ingrid Vanderlinden (Belgium) 1:38.97\n"
    "3. Katrien Dekeyser (Netherlands) 1:39.05\n4. Sanne Oosterhuis (Netherlands) 1:39.88\n"
    "5. Wilhelmina van Dijk (Netherlands) 1:40.02",
    "source": "Alpine Wire",
}


async def test_nav_only_html_and_too_short_items_land_in_the_dlq(settings: Settings, workers) -> None:
    values = [
        orjson.dumps({"html": NAV_ONLY, "url": "https://gazette.example.org/"}),
        orjson.dumps({"html": NAV_PAGE, "url": "https://gazette.example.org/index"}),
        NAV_PAGE.encode(),  # the page sent as it is, not wrapped in JSON
        orjson.dumps({"title": "Update", "body": "Click here"}),
        orjson.dumps(BRIEF),
    ]
    workers.start("ingest")
    await produce(settings, values)
    t = settings.topics
    got = await collect(settings, [t.ingested, t.dlq], count=len(values), timeout_s=90, settle_s=2)
    dead = {
        base64.b64decode(d["original_value_b64"]): d["error"]
        for d in (orjson.loads(g.value) for g in got if g.topic == t.dlq)
    }
    ingested = [orjson.loads(g.value) for g in got if g.topic == t.ingested]
    assert len(dead) + len(ingested) == len(values), workers.logs()
    for value in values[:3]:
        assert dead[value]["code"] == "html_no_text", dead.get(value)
        assert "navigation" in dead[value]["message"] and '{"title", "body"}' in dead[value]["message"]
    short = dead[values[3]]
    assert short["code"] == "too_short" and "NEWSFLOW_MIN_ARTICLE_WORDS" in short["message"]
    assert [a["title"] for a in ingested] == [BRIEF["title"]]


async def test_results_table_keeps_its_fields_in_the_sources_language(settings: Settings, workers) -> None:
    workers.settings = settings.model_copy(update={"source_languages": {"alpine wire": "en"}})
    workers.start("ingest")
    workers.start("enrich")
    await produce(settings, [orjson.dumps(RESULTS)])
    got = await collect(settings, [settings.topics.enriched], count=1, timeout_s=120)
    assert got, workers.logs()
    enrichment = orjson.loads(got[0].value)["enrichment"]
    language = enrichment["language"]
    assert (language["code"], language["method"], language["declared_by"]) == ("en", "declared", "source")
    assert enrichment["entities"]["people"], enrichment["entities"]
    assert enrichment["keywords"]["value"] and enrichment["sentiment"]["label"]
