"""One story-index contract, two implementations: ``MemoryStoryIndex`` and ``RedisStoryIndex`` on the
real Redis: grouping, replays, replicas, the time window.

Every test gets fresh state (for Redis: a namespace of its own, its keys deleted afterwards). For
Redis, :meth:`Env.index` opens a new connection each call, as another enrich replica would.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from redis.asyncio import Redis

from evaluation.enrich_eval import load_eval_set
from services.enrich.analysis.doc import Doc
from services.enrich.enrichers.registry import default_enrichers
from services.enrich.stories import MemoryStoryIndex, RedisStoryIndex, StoryIndex, story_id_for
from shared.models import Article, CountriesField, EntitiesField, EntityItem, KeywordItem, KeywordsField, TextSpan
from shared.rebuild import StateNotReady, ready_key
from shared.redis_client import delete_namespace
from shared.redis_replies import reply_bytes
from shared.settings import Settings
from tests.unit.test_enrichers import make_article, sample_article

pytestmark = pytest.mark.integration

T0 = datetime(2024, 4, 14, 12, tzinfo=UTC)

REWRITE = """Washington is not seeking a wider conflict with Tehran, the White House said on Sunday, as Israel's war \
cabinet weighed how to answer Iran's first direct attack on its territory.

"We're not looking for a wider war with Iran," National Security Council spokesman John Kirby told NBC, adding that \
President Joe Biden had made clear to Prime Minister Benjamin Netanyahu that the United States would not take part in \
any Israeli counter-strike.

Iran fired more than 300 drones and missiles at Israel overnight in retaliation for a strike on its consulate in \
Damascus. Israel said 99 percent were shot down with help from the United States, Britain and Jordan.

Defence Minister Yoav Gallant and minister Benny Gantz both said Israel would respond "at the time that suits us". \
Netanyahu's office said the war cabinet would meet again on Monday."""


@dataclass
class Env:
    """Makes indexes sharing one state: one memory index, or one Redis namespace."""

    kind: str
    redis_url: str
    settings: Settings = field(init=False)
    clients: list[Redis] = field(default_factory=list)
    _memory: MemoryStoryIndex | None = None

    def __post_init__(self) -> None:
        ns = f"nftest:stories:{uuid.uuid4().hex[:10]}"
        self.settings = Settings(redis_url=self.redis_url, redis_namespace=ns)

    def index(self, **settings: Any) -> StoryIndex:
        """An index on the shared state; ``settings`` override the env's for this index only."""
        if settings:
            custom = self.settings.model_copy(update=settings)
            if self.kind == "memory":
                return MemoryStoryIndex(custom)  # its own state: only for tests that use one index
            client = Redis.from_url(self.redis_url)
            self.clients.append(client)
            return RedisStoryIndex(client, custom)
        if self.kind == "memory":
            if self._memory is None:
                self._memory = MemoryStoryIndex(self.settings)
            return self._memory
        client = Redis.from_url(self.redis_url)
        self.clients.append(client)
        return RedisStoryIndex(client, self.settings)

    async def close(self) -> None:
        if self.kind == "redis":
            client = Redis.from_url(self.redis_url)
            await delete_namespace(client, self.settings.redis_namespace)
            await client.aclose()
        for c in self.clients:
            await c.aclose()


@pytest.fixture(params=["memory", "redis"])
async def env(request: pytest.FixtureRequest, redis_url: str) -> AsyncIterator[Env]:
    e = Env(request.param, redis_url)
    yield e
    await e.close()


@pytest.fixture
async def redis_env(redis_url: str) -> AsyncIterator[Env]:
    e = Env("redis", redis_url)
    yield e
    await e.close()


def article(id: str, when: datetime = T0, title: str = "t", body: str = "b") -> Article:
    return make_article(title, body, id=id).model_copy(update={"published_at": when, "ingested_at": when})


def doc(id: str, people: list[str], orgs: list[str], keywords: list[str], when: datetime = T0) -> Doc:
    d = Doc(article=article(id, when))
    first = TextSpan.model_validate({"in": "body", "start": 0, "end": 1})
    d.fields = {
        "entities": EntitiesField(
            people=[EntityItem(name=n, mentions=2, first=first) for n in people],
            organizations=[EntityItem(name=n, mentions=1, first=first) for n in orgs],
            places=[],
            method="m", version="1",
        ),
        "countries": CountriesField(value=[], method="m", version="1"),
        "keywords": KeywordsField(value=[KeywordItem(text=k, score=1.0) for k in keywords], method="m", version="1"),
    }  # fmt: skip
    return d


def iran(id: str, when: datetime = T0) -> Doc:
    return doc(id, ["John Kirby", "Benjamin Netanyahu"], ["White House"], ["war cabinet", "drone attack"], when)


def floods(id: str, when: datetime = T0) -> Doc:
    return doc(id, ["Eduardo Leite"], ["Brazilian Red Cross"], ["floods", "Porto Alegre"], when)


async def test_reports_of_one_event_share_a_story_and_others_do_not(env: Env) -> None:
    ids = await env.index().assign([iran("afp-1"), floods("reuters-9"), iran("ap-2", T0 + timedelta(hours=5))])
    assert ids[0] == ids[2] == story_id_for("afp-1")
    assert ids[1] == story_id_for("reuters-9") != ids[0]


async def test_real_enrichment_groups_two_outlets_and_separates_another_event(env: Env) -> None:
    afp = sample_article()
    rewrite = article("reuters-iran", T0 + timedelta(hours=3), "US does not want wider war with Iran", REWRITE)
    other = next(i.article for i in load_eval_set() if i.id == "en-disaster-japan-quake")
    docs = [Doc(article=a) for a in (afp, rewrite, other)]
    for enricher in default_enrichers(env.settings):
        for d, fields in zip(docs, enricher.enrich(docs), strict=True):
            d.fields.update(fields)
    ids = await env.index().assign(docs)
    assert ids[0] == ids[1] != ids[2]


async def test_replay_keeps_the_story_even_if_enrichment_changed(env: Env) -> None:
    index = env.index()
    first = await index.assign([iran("afp-1"), floods("x-2")])
    again = await index.assign([floods("afp-1"), iran("x-2")])  # same ids, swapped content
    assert again == first


async def test_the_same_people_without_the_same_words_are_another_event(env: Env) -> None:
    index = env.index()
    [first] = await index.assign([iran("afp-1")])
    [other] = await index.assign([doc("x-2", ["John Kirby", "Benjamin Netanyahu"], ["White House"], ["budget talks"])])
    [words_only] = await index.assign([doc("x-3", ["Someone Else"], ["Other Org"], ["war cabinet", "drone attack"])])
    assert first != other and first != words_only


async def test_a_story_grows_its_profile_with_each_member(env: Env) -> None:
    """C shares nothing with A, but enough with B, which joined A: C joins the story too."""
    index = env.index()
    a = doc("a", ["John Kirby"], ["White House"], ["war cabinet", "drone attack"])
    b = doc("b", ["John Kirby", "Yoav Gallant"], ["White House"], ["war cabinet", "drone attack", "counter strike"])
    c = doc("c", ["Yoav Gallant"], ["Israeli army"], ["counter strike", "drone attack"], T0 + timedelta(hours=1))
    ids = await index.assign([a, b])
    [joined] = await index.assign([c])
    assert ids[0] == ids[1] == joined


async def test_two_replicas_agree_on_the_story_of_one_event(env: Env) -> None:
    """Two enrich replicas (for Redis: their own connections), batches racing each other."""
    one, two = env.index(), env.index()
    batches_a = [[iran(f"a{i}"), floods(f"fa{i}")] for i in range(10)]
    batches_b = [[floods(f"fb{i}"), iran(f"b{i}")] for i in range(10)]

    async def run(index: StoryIndex, batches: list[list[Doc]]) -> list[str]:
        out: list[str] = []
        for batch in batches:
            out += await index.assign(batch)
        return out

    got_a, got_b = await asyncio.gather(run(one, batches_a), run(two, batches_b))
    iran_ids = set(got_a[0::2]) | set(got_b[1::2])
    flood_ids = set(got_a[1::2]) | set(got_b[0::2])
    assert len(iran_ids) == 1 and len(flood_ids) == 1 and iran_ids != flood_ids


async def test_same_entities_outside_the_window_start_a_new_story(env: Env) -> None:
    index = env.index()
    [first] = await index.assign([iran("day-1")])
    [later] = await index.assign([iran("day-5", T0 + timedelta(days=4))])
    [next_day] = await index.assign([iran("day-2", T0 + timedelta(days=1))])
    assert later != first and next_day == first


async def test_an_empty_batch_assigns_nothing(env: Env) -> None:
    assert await env.index().assign([]) == []


async def test_redis_keys_are_namespaced_and_expire(redis_env: Env) -> None:
    await redis_env.index().assign([iran("afp-1")])
    redis = redis_env.clients[0]
    s = redis_env.settings
    keys = [k.decode() async for k in redis.scan_iter(match=f"{s.redis_namespace}:*")]
    assert keys and all(k.startswith(s.redis_key("story") + ":") for k in keys)
    ttls: list[Any] = [await redis.ttl(k) for k in keys]
    assert all(0 < t <= 7 * 24 * 3600 for t in ttls)


def text_doc(id: str, title: str, body: str, when: datetime = T0) -> Doc:
    """An article in a language without a NER model: entities null, keywords and countries empty."""
    d = Doc(article=article(id, when, title, body))
    d.fields = {
        "entities": EntitiesField(method="none", version="1"),
        "countries": CountriesField(value=[], method="m", version="1"),
        "keywords": KeywordsField(value=[], language="de", method="m", version="1"),
    }
    return d


HAMBURG = (
    "Großbrand im Hamburger Hafen: Feuerwehr kämpft gegen Flammen",
    "Im Hamburger Hafen ist am Montag ein Großbrand in einer Lagerhalle ausgebrochen. Die Feuerwehr Hamburg "
    "war mit 180 Einsatzkräften vor Ort. Die Lagerhalle am Kai brannte vollständig aus, Rauch zog über Altona.",
)
HAMBURG_2 = (
    "Hamburg: Lagerhalle im Hafen brennt aus",
    "Eine Lagerhalle im Hamburger Hafen ist bei einem Großbrand völlig zerstört worden. Rund 180 Einsatzkräfte "
    "der Feuerwehr kämpften stundenlang gegen die Flammen; der Rauch zog bis nach Altona.",
)
MUNICH = (
    "München: Stadtrat beschließt neuen Haushalt",
    "Der Münchner Stadtrat hat am Mittwoch den Haushalt für das kommende Jahr beschlossen. Die Stadt plant "
    "Investitionen in Schulen, Wohnungen und den Nahverkehr; die Opposition kritisierte die neuen Schulden.",
)


async def test_articles_without_entities_are_grouped_by_their_text(env: Env) -> None:
    ids = await env.index().assign(
        [text_doc("de-1", *HAMBURG), text_doc("de-2", *MUNICH), text_doc("de-3", *HAMBURG_2, T0 + timedelta(hours=2))]
    )
    assert ids[0] == ids[2] != ids[1]


async def test_an_article_signed_by_text_joins_at_the_text_threshold(env: Env) -> None:
    """HAMBURG_2 retells HAMBURG in other words (their rarest words' cosine is about 0.8): joined at the default
    text threshold, apart at 0.95; the field threshold does not decide for articles with text."""
    strict = env.index(story_text_threshold=0.95, story_threshold=0.01)
    ids = await strict.assign([text_doc("de-1", *HAMBURG), text_doc("de-3", *HAMBURG_2, T0 + timedelta(hours=2))])
    assert ids[0] != ids[1]
    later = T0 + timedelta(days=5)  # out of the first pair's window (for Redis, the state is shared)
    default = env.index(story_threshold=0.99)
    again = await default.assign([text_doc("de-4", *HAMBURG, later), text_doc("de-5", *HAMBURG_2, later)])
    assert again[0] == again[1] == story_id_for("de-4")


async def test_an_article_signed_by_text_never_joins_a_story_signed_by_fields(env: Env) -> None:
    """The same people and words, once as a brief of fields (too little text) and once as a full report."""
    index = env.index()
    [brief] = await index.assign([iran("brief-1")])
    report = article("report-2", T0 + timedelta(hours=1), "US does not want wider war with Iran", REWRITE)
    full = iran("report-2", T0 + timedelta(hours=1))
    full.article = report
    [joined] = await index.assign([full])
    assert brief == story_id_for("brief-1") and joined == story_id_for("report-2")


async def test_a_name_most_stories_share_no_longer_makes_the_who(env: Env) -> None:
    """25 stories within the window name one person, each with its own people and words (apart: no shared
    words). A report with that person and one story's words joins it while few stories have the person; once
    25 do, the person counts for less than half and no longer satisfies "who": it starts its own story."""
    index = env.index()

    def story(i: int, when: datetime = T0) -> Doc:
        people = ["Jane Common", f"Person{i} Own", f"Other{i} Own"]
        return doc(f"s{i}", people, [f"Org{i}"], [f"{i:02d}zeta {i:02d}kappa"], when)

    def report(i: int) -> Doc:
        return doc(f"r{i}", ["Jane Common"], [], [f"{i:02d}zeta {i:02d}kappa"], T0 + timedelta(hours=1))

    stories = await index.assign([story(i) for i in range(3)])
    assert len(set(stories)) == 3
    [early] = await index.assign([report(2)])
    assert early == stories[2]
    await index.assign([story(i) for i in range(3, 25)])
    [late] = await index.assign([report(24)])
    assert late == story_id_for("r24")


async def test_memberships_restored_into_an_empty_index_take_later_reports(env: Env) -> None:
    """The index rebuilt after a loss: the memberships a first index gave are restored into an empty one
    (``restore``), and later reports join those stories as they would have joined the lost index's."""
    lost = Env(env.kind, env.redis_url)
    docs = [iran("afp-1"), floods("reuters-9"), iran("ap-2", T0 + timedelta(hours=1))]
    try:
        given = await lost.index().assign(docs)
    finally:
        await lost.close()
    index = env.index()
    await index.restore(docs, given)
    [later] = await index.assign([iran("bbc-3", T0 + timedelta(hours=2))])
    [flood] = await index.assign([floods("x-4", T0 + timedelta(hours=2))])
    assert later == given[0] and flood == given[1] != given[0]
    assert await index.assign(docs) == given  # replays keep their story


async def test_restore_keeps_the_recorded_story_and_leaves_known_articles_alone(env: Env) -> None:
    index = env.index()
    await index.restore([iran("afp-1")], ["st_recorded"])  # not story_id_for("afp-1"): not chosen again
    [joined] = await index.assign([iran("ap-2", T0 + timedelta(hours=1))])
    assert joined == "st_recorded"
    [flood] = await index.assign([floods("reuters-9")])
    await index.restore([floods("reuters-9"), iran("ap-2")], ["st_other", "st_other"])  # known: kept
    assert await index.assign([floods("reuters-9"), iran("ap-2")]) == [flood, "st_recorded"]


async def test_restore_twice_writes_the_same_keys_with_the_expiry_left(redis_env: Env) -> None:
    """A rebuild interrupted and done again: the second restore changes nothing; keys expire when the
    originals would have (the ``ttls`` given), a key shared by members with the longest of theirs."""
    index = redis_env.index()
    redis = redis_env.clients[0]
    prefix = redis_env.settings.redis_key("story")
    docs = [iran("afp-1"), iran("ap-2"), floods("reuters-9")]
    await index.restore(docs, ["st_a", "st_a", "st_b"], [100, 500, 300])

    async def dump() -> dict[str, Any]:
        out: dict[str, Any] = {}
        async for k in redis.scan_iter(match=f"{prefix}:*"):
            kind = reply_bytes(await redis.type(k)).decode()
            out[k.decode()] = (
                await redis.hgetall(k) if kind == "hash" else
                await redis.zrange(k, 0, -1, withscores=True) if kind == "zset" else await redis.get(k)
            )  # fmt: skip
        return out

    first = await dump()
    await index.restore(docs, ["st_a", "st_a", "st_b"], [100, 500, 300])
    assert await dump() == first
    assert 0 < await redis.ttl(f"{prefix}:a:afp-1") <= 100
    assert 400 < await redis.ttl(f"{prefix}:p:st_a") <= 500
    assert 200 < await redis.ttl(f"{prefix}:p:st_b") <= 300


async def test_a_gated_index_refuses_to_assign_while_it_is_not_in_redis(redis_env: Env) -> None:
    redis = Redis.from_url(redis_env.redis_url)
    redis_env.clients.append(redis)
    index = RedisStoryIndex(redis, redis_env.settings, gated=True)
    with pytest.raises(StateNotReady):
        await index.assign([iran("afp-1")])
    assert not [k async for k in redis.scan_iter(match=f"{redis_env.settings.redis_namespace}:*")]  # nothing written
    await redis.set(ready_key(redis_env.settings.redis_key("story")), "1")
    assert await index.assign([iran("afp-1")]) == [story_id_for("afp-1")]
