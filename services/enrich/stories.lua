-- Assign a batch of articles to stories, atomically (one call per batch).
--
-- ARGV: prefix, window_s, ttl_s, threshold, min_shared_entities, n_docs, then per doc:
--   article_id, event_ts, new_story_id, n_features, (feature, weight) * n_features
-- Keys (all under prefix):
--   <prefix>:a:<article_id>  -> story id of an article (replays get the same id)
--   <prefix>:f:<feature>     -> zset story id -> latest event ts of a member with the feature
--   <prefix>:n:<story_id>    -> number of member articles
-- Returns the story id of every doc, in order.
local prefix = ARGV[1]
local window = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
local threshold = tonumber(ARGV[4])
local min_entities = tonumber(ARGV[5])
local n_docs = tonumber(ARGV[6])
local i = 7
local out = {}
for d = 1, n_docs do
  local id, ts, new_sid, nf = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2], tonumber(ARGV[i + 3])
  i = i + 4
  local feats, weights = {}, {}
  local total = 0
  for f = 1, nf do
    feats[f] = ARGV[i]
    weights[f] = tonumber(ARGV[i + 1])
    total = total + weights[f]
    i = i + 2
  end
  local akey = prefix .. ':a:' .. id
  local sid = redis.call('GET', akey)
  if not sid then
    -- candidate stories: any story with a member sharing a feature within the window
    local shared, entities = {}, {}
    for f = 1, nf do
      local members = redis.call('ZRANGEBYSCORE', prefix .. ':f:' .. feats[f], ts - window, ts + window)
      for _, s in ipairs(members) do
        shared[s] = (shared[s] or 0) + weights[f]
        if string.sub(feats[f], 1, 2) == 'e:' then entities[s] = (entities[s] or 0) + 1 end
      end
    end
    local best, best_score = nil, -1
    for s, w in pairs(shared) do
      local score = w / math.max(total, 1e-9)
      if score >= threshold and (entities[s] or 0) >= min_entities then
        if score > best_score or (score == best_score and s < best) then best, best_score = s, score end
      end
    end
    sid = best or new_sid
    redis.call('SET', akey, sid, 'EX', ttl)
    redis.call('INCR', prefix .. ':n:' .. sid)
    redis.call('EXPIRE', prefix .. ':n:' .. sid, ttl)
    for f = 1, nf do
      local fkey = prefix .. ':f:' .. feats[f]
      redis.call('ZADD', fkey, 'GT', ts, sid)
      redis.call('ZREMRANGEBYSCORE', fkey, '-inf', ts - ttl)
      redis.call('EXPIRE', fkey, ttl)
    end
  end
  out[d] = sid
end
return out
