-- Assign a batch of articles to stories, atomically (one call per batch).
--
-- ARGV: prefix, window_s, ttl_s, threshold, min_shared_who, min_shared_what, common_stories, max_candidates,
--   text_threshold, n_docs, then per doc: article_id, event_ts, new_story_id, n_features, (feature, weight) * n_features
-- Keys (all under prefix):
--   <prefix>:a:<article_id>  -> story id of an article (replays get the same id)
--   <prefix>:f:<feature>     -> zset story id -> latest event ts of a member with the feature
--   <prefix>:p:<story_id>    -> hash feature -> the sum of its members' weights (the story's profile)
--   <prefix>:q:<story_id>    -> the sum of the profile's squared values
-- An article joins the story with the highest cosine between its weights and the story's profile within the
-- window, if it is at least text_threshold for an article signed by its text (t: features), or, for an
-- article signed by its fields, at least the threshold with at least min_shared_who names (e:, n:) and
-- min_shared_what words, names or numbers (w:, n:, d:) shared with the story. Per feature, only the max_candidates
-- most recent stories are compared; a feature that more than common_stories stories in the window have
-- counts common_stories / stories of its weight (and not towards the minimums once that is below 1/2).
-- Returns the story id of every doc, in order.
-- KEYS[1], when given (a gated index): refuse (error NEWSFLOW_NOT_READY) unless it exists, i.e. unless the index
-- is in Redis (not lost, or rebuilt from the log: services/enrich/rebuild.py).
if KEYS[1] and redis.call('EXISTS', KEYS[1]) == 0 then
  return redis.error_reply('NEWSFLOW_NOT_READY ' .. KEYS[1] .. ': the story index is not in Redis (rebuild it)')
end
local prefix = ARGV[1]
local window = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
local threshold = tonumber(ARGV[4])
local min_who = tonumber(ARGV[5])
local min_what = tonumber(ARGV[6])
local common = tonumber(ARGV[7])
local max_candidates = tonumber(ARGV[8])
local text_threshold = tonumber(ARGV[9])
local n_docs = tonumber(ARGV[10])
local i = 11
local out = {}
for d = 1, n_docs do
  local id, ts, new_sid, nf = ARGV[i], tonumber(ARGV[i + 1]), ARGV[i + 2], tonumber(ARGV[i + 3])
  i = i + 4
  local feats, weights = {}, {}
  local square = 0
  local by_text = false  -- signed by its text: t: features only
  for f = 1, nf do
    feats[f] = ARGV[i]
    weights[f] = tonumber(ARGV[i + 1])
    square = square + weights[f] * weights[f]
    if string.sub(feats[f], 1, 2) == 't:' then by_text = true end
    i = i + 2
  end
  local akey = prefix .. ':a:' .. id
  local sid = redis.call('GET', akey)
  if not sid then
    -- candidate stories: the most recent stories with a member sharing a feature within the window
    local shared, who, what = {}, {}, {}  -- story -> list of {feature index, factor}; gate counts
    local reach = {}  -- story -> the sum of the squared shared weights: its cosine is at most sqrt(reach) / norm
    for f = 1, nf do
      local fkey = prefix .. ':f:' .. feats[f]
      local members = redis.call('ZREVRANGEBYSCORE', fkey, ts + window, ts - window, 'LIMIT', 0, max_candidates)
      local stories = #members
      if stories == max_candidates then stories = redis.call('ZCOUNT', fkey, ts - window, ts + window) end
      if stories > 0 then
        local factor = 1
        if stories > common then factor = common / stories end
        local kind = string.sub(feats[f], 1, 2)
        for _, s in ipairs(members) do
          local list = shared[s]
          if not list then
            list = {}
            shared[s] = list
          end
          list[#list + 1] = {f, factor}
          reach[s] = (reach[s] or 0) + (weights[f] * factor) ^ 2
          if factor >= 0.5 then
            if kind == 'e:' or kind == 'n:' then who[s] = (who[s] or 0) + 1 end
            if kind == 'w:' or kind == 'd:' or kind == 'n:' then what[s] = (what[s] or 0) + 1 end
          end
        end
      end
    end
    local best, best_score = nil, -1
    local norm = math.sqrt(square)
    local bar = threshold
    if by_text then bar = text_threshold end
    for s, list in pairs(shared) do
      -- by text: no gate, and a story whose shared weights cannot reach the bar (Cauchy-Schwarz) is not read
      if (by_text and math.sqrt(reach[s]) >= bar * norm - 1e-9)
          or (not by_text and (who[s] or 0) >= min_who and (what[s] or 0) >= min_what) then
        local names = {}
        for k, entry in ipairs(list) do names[k] = feats[entry[1]] end
        local profile = redis.call('HMGET', prefix .. ':p:' .. s, unpack(names))
        local dot = 0
        for k, entry in ipairs(list) do
          dot = dot + weights[entry[1]] * entry[2] * (tonumber(profile[k]) or 0)
        end
        local story_square = tonumber(redis.call('GET', prefix .. ':q:' .. s)) or 0
        local score = dot / math.max(norm * math.sqrt(story_square), 1e-9)
        if score >= bar and (score > best_score or (score == best_score and s < best)) then
          best, best_score = s, score
        end
      end
    end
    sid = best or new_sid
    redis.call('SET', akey, sid, 'EX', ttl)
    local pkey, qkey = prefix .. ':p:' .. sid, prefix .. ':q:' .. sid
    local added = 0
    for f = 1, nf do
      local fkey = prefix .. ':f:' .. feats[f]
      if redis.call('ZADD', fkey, 'GT', ts, sid) == 1 then
        redis.call('ZREMRANGEBYSCORE', fkey, '-inf', ts - ttl)  -- the set only grows here: trim it here
      end
      redis.call('EXPIRE', fkey, ttl)
      local new = tonumber(redis.call('HINCRBYFLOAT', pkey, feats[f], weights[f]))
      local old = new - weights[f]
      added = added + new * new - old * old
    end
    if added ~= 0 then redis.call('INCRBYFLOAT', qkey, added) end
    redis.call('EXPIRE', pkey, ttl)
    redis.call('EXPIRE', qkey, ttl)
  end
  out[d] = sid
end
return out
