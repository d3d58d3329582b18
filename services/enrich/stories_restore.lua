-- Put back story memberships read from the log (the story index rebuilt after Redis lost it), atomically per
-- batch: each article joins the story it was given, exactly as stories.lua adds a member (no story is chosen
-- again); an article the index knows already (<prefix>:a:<id>) keeps its story and adds nothing.
--
-- ARGV: prefix, ttl_s, n_docs, then per doc: article_id, event_ts, story_id, keys_ttl_s (what is left of the
--   original keys' life: the record's timestamp plus ttl_s), n_features, (feature, weight) * n_features
-- Keys: those of stories.lua. A key shared by members keeps the longest expiry of theirs.
local prefix = ARGV[1]
local ttl = tonumber(ARGV[2])
local n_docs = tonumber(ARGV[3])
local i = 4
local restored = 0

local function expire_later(key, seconds)
  local left = redis.call('TTL', key)
  if left < seconds then redis.call('EXPIRE', key, seconds) end
end

for d = 1, n_docs do
  local id, ts, sid, keep, nf = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2], tonumber(ARGV[i + 3]), tonumber(ARGV[i + 4])
  i = i + 5
  local akey = prefix .. ':a:' .. id
  if redis.call('SET', akey, sid, 'NX', 'EX', keep) then
    restored = restored + 1
    local pkey, qkey = prefix .. ':p:' .. sid, prefix .. ':q:' .. sid
    local added = 0
    for f = 0, nf - 1 do
      local feat, weight = ARGV[i + 2 * f], tonumber(ARGV[i + 2 * f + 1])
      local fkey = prefix .. ':f:' .. feat
      if redis.call('ZADD', fkey, 'GT', ts, sid) == 1 then
        redis.call('ZREMRANGEBYSCORE', fkey, '-inf', ts - ttl)
      end
      expire_later(fkey, keep)
      local new = tonumber(redis.call('HINCRBYFLOAT', pkey, feat, weight))
      local old = new - weight
      added = added + new * new - old * old
    end
    if added ~= 0 then redis.call('INCRBYFLOAT', qkey, added) end
    expire_later(pkey, keep)
    expire_later(qkey, keep)
  end
  i = i + 2 * nf
end
return restored
