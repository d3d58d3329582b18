"""Recent articles and stories in Redis, so any publish replica answers ``/v1/stories`` and ``/v1/articles``.

Every key expires after ``NEWSFLOW_RECENT_TTL_S``; the story list keeps the ``NEWSFLOW_RECENT_STORIES``
most recently updated. One Lua call per article merges it into its story atomically (any number of
replicas) and once per article version (a replayed record changes nothing).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import orjson
from redis.asyncio import Redis
from redis.typing import EncodableT

from shared.redis_replies import (
    reply_bytes_list,
    reply_bytes_map,
    reply_int,
    reply_optional_bytes,
    reply_optional_bytes_list,
    reply_scored,
)

from .views import ArticleCard, Category, Count, StoryCard

__all__ = ["RecentStore"]

_MERGE = """
local ns, ttl, keep, now = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local n = 0
for i = 5, #ARGV, 2 do
  local c = cjson.decode(ARGV[i])
  local article = ns .. ':article:' .. c.id
  redis.call('SET', article, ARGV[i + 1], 'EX', ttl)
  redis.call('SET', ns .. ':card:' .. c.id, ARGV[i], 'EX', ttl)
  if c.story_id ~= cjson.null and c.story_id then
    local s = ns .. ':story:' .. c.story_id
    if redis.call('SADD', s .. ':seen', c.id .. ':v' .. c.version) == 1 then
      n = n + 1
      redis.call('HSETNX', s, 'headline', c.title)
      redis.call('HSETNX', s, 'first_seen', now)
      redis.call('HSET', s, 'last_update', now)
      local first_time = redis.call('ZSCORE', s .. ':articles', c.id) == false
      redis.call('ZADD', s .. ':articles', now, c.id)
      if first_time then
        if c.source ~= cjson.null and c.source then redis.call('ZINCRBY', s .. ':outlets', 1, c.source) end
        for _, code in ipairs(c.countries) do redis.call('ZINCRBY', s .. ':countries', 1, code) end
        for _, name in ipairs(c.entities) do redis.call('ZINCRBY', s .. ':entities', 1, name) end
        if c.category ~= cjson.null and c.category then
          redis.call('ZINCRBY', s .. ':categories', 1, c.category.code .. '|' .. c.category.name)
        end
      end
      for _, suffix in ipairs({'', ':seen', ':articles', ':outlets', ':countries', ':entities', ':categories'}) do
        redis.call('EXPIRE', s .. suffix, ttl)
      end
      redis.call('ZADD', ns .. ':stories', now, c.story_id)
    end
  end
end
redis.call('ZREMRANGEBYRANK', ns .. ':stories', 0, -(keep + 1))
redis.call('EXPIRE', ns .. ':stories', ttl)
return n
"""


def _dt(ms: bytes) -> datetime:
    return datetime.fromtimestamp(float(ms) / 1000, UTC)


def _counts(pairs: list[tuple[bytes, float]]) -> list[Count]:
    return [Count(name=k.decode(), count=v) for k, v in pairs]


class RecentStore:
    def __init__(self, redis: Redis, *, namespace: str, ttl_s: int, keep_stories: int) -> None:
        self._redis = redis
        self._ns = namespace
        self._ttl = ttl_s
        self._keep = keep_stories
        self._merge = redis.register_script(_MERGE)

    async def add(self, items: list[tuple[ArticleCard, bytes]]) -> int:
        """Remember each (card, enriched article bytes); the number of new story memberships."""
        if not items:
            return 0
        args: list[EncodableT] = [self._ns, self._ttl, self._keep, int(time.time() * 1000)]
        for card, value in items:
            args += [card.model_dump_json(), value]
        return reply_int(await self._merge(keys=[], args=args))

    async def article(self, article_id: str) -> bytes | None:
        return reply_optional_bytes(await self._redis.get(f"{self._ns}:article:{article_id}"))

    async def stories(self, limit: int = 50, articles_per_story: int = 5) -> list[StoryCard]:
        ids = reply_bytes_list(await self._redis.zrevrange(f"{self._ns}:stories", 0, max(0, limit - 1)))
        cards = [await self.story(i.decode(), articles_per_story) for i in ids]
        return [c for c in cards if c is not None]

    async def story(self, story_id: str, articles: int = 100) -> StoryCard | None:
        s = f"{self._ns}:story:{story_id}"
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(s)
            pipe.zcard(f"{s}:articles")
            pipe.zrevrange(f"{s}:outlets", 0, 9, withscores=True)
            pipe.zrevrange(f"{s}:countries", 0, 9, withscores=True)
            pipe.zrevrange(f"{s}:entities", 0, 11, withscores=True)
            pipe.zrevrange(f"{s}:categories", 0, 0, withscores=True)
            pipe.zrevrange(f"{s}:articles", 0, articles - 1)
            meta_r, count_r, outlets_r, countries_r, entities_r, cats_r, article_ids_r = await pipe.execute()
        meta = reply_bytes_map(meta_r)
        if not meta:
            return None
        cats = reply_scored(cats_r)
        category = None
        if cats:
            code, _, name = cats[0][0].decode().partition("|")
            category = Category(code=code, name=name)
        article_ids = reply_bytes_list(article_ids_r)
        cards: list[ArticleCard] = []
        if article_ids:
            raw_cards = reply_optional_bytes_list(
                await self._redis.mget([f"{self._ns}:card:{a.decode()}" for a in article_ids])
            )
            cards = [ArticleCard.model_validate(orjson.loads(r)) for r in raw_cards if r]
        return StoryCard(
            id=story_id,
            headline=meta[b"headline"].decode(),
            first_seen=_dt(meta[b"first_seen"]),
            last_update=_dt(meta[b"last_update"]),
            article_count=reply_int(count_r),
            outlets=_counts(reply_scored(outlets_r)),
            countries=_counts(reply_scored(countries_r)),
            entities=_counts(reply_scored(entities_r)),
            category=category,
            articles=cards,
        )
