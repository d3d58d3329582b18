-- Assign a batch of articles to stories, atomically (one call per batch).
--
-- ARGV: prefix, window_s, ttl_s, threshold, min_shared_entities, min_shared_words, n_docs, then per doc:
--   article_id, event_ts, new_story_id, n_features, (feature, weight) * n_features
-- Keys (all under prefix):
--   <prefix>:a:<article_id>  -> story id of an article (replays get the same id)
--   <prefix>:f:<feature>     -> zset story id -> latest event ts of a member with the feature
--   <prefix>:p:<story_id>    -> hash feature -> weight: the story's profile (each feature's largest weight)
--   <prefix>:t:<story_id>    -> the sum of the profile's weights
--   <prefix>:n:<story_id>    -> number of member articles
-- An article joins the story with the highest similarity, shared weight / sqrt(article total * story
-- total), if it is at least the threshold and the story shares at least min_shared_entities entity
-- features (e:) and min_shared_words key-phrase words (w:) with it, within the window.
-- Returns the story id of every doc, in order.
local prefix = ARGV[1]
local window = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
local threshold = tonumber(ARGV[4])
local min_entities = tonumber(ARGV[5])
local min_words = tonumber(ARGV[6])
local n_docs = tonumber(ARGV[7])
local i = 8
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
    local shared, entities, words = {}, {}, {}
    for f = 1, nf do
      local members = redis.call('ZRANGEBYSCORE', prefix .. ':f:' .. feats[f], ts - window, ts + window)
      local kind = string.sub(feats[f], 1, 2)
      for _, s in ipairs(members) do
        shared[s] = (shared[s] or 0) + weights[f]
        if kind == 'e:' then entities[s] = (entities[s] or 0) + 1 end
        if kind == 'w:' then words[s] = (words[s] or 0) + 1 end
      end
    end
    local best, best_score = nil, -1
    for s, w in pairs(shared) do
      if (entities[s] or 0) >= min_entities and (words[s] or 0) >= min_words then
        local story_total = tonumber(redis.call('GET', prefix .. ':t:' .. s)) or total
        local score = w / math.sqrt(math.max(total * story_total, 1e-9))
        if score >= threshold and (score > best_score or (score == best_score and s < best)) then
          best, best_score = s, score
        end
      end
    end
    sid = best or new_sid
    redis.call('SET', akey, sid, 'EX', ttl)
    redis.call('INCR', prefix .. ':n:' .. sid)
    redis.call('EXPIRE', prefix .. ':n:' .. sid, ttl)
    local pkey, tkey = prefix .. ':p:' .. sid, prefix .. ':t:' .. sid
    for f = 1, nf do
      local fkey = prefix .. ':f:' .. feats[f]
      redis.call('ZADD', fkey, 'GT', ts, sid)
      redis.call('ZREMRANGEBYSCORE', fkey, '-inf', ts - ttl)
      redis.call('EXPIRE', fkey, ttl)
      local old = tonumber(redis.call('HGET', pkey, feats[f])) or 0
      if weights[f] > old then
        redis.call('HSET', pkey, feats[f], weights[f])
        redis.call('INCRBYFLOAT', tkey, weights[f] - old)
      end
    end
    redis.call('EXPIRE', pkey, ttl)
    redis.call('EXPIRE', tkey, ttl)
  end
  out[d] = sid
end
return out
