-- newsflow ingest: exact + near duplicate decisions for one batch, atomically.
--
-- ARGV[1] namespace prefix (e.g. "newsflow:dedup")
-- ARGV[2] TTL in seconds (the dedup window)
-- ARGV[3] near-duplicate threshold: minimum number of equal MinHash slots
-- ARGV[4] max LSH candidates compared per item
-- ARGV[5] number of items N (0: only ARGV[9] / ARGV[10])
-- ARGV[6] JSON array of N items {"o": owner token, "id": article id, "c": content hash, "u": url hash or "",
--         "b": [band keys...], "n": byte length of the item's signature in ARGV[7]}
-- ARGV[7] the N MinHash signatures one after the other, each packed little-endian uint32 slots
--         (length 0 = no near check)
-- ARGV[8] "1": gated: refuse (error NEWSFLOW_NOT_READY) unless <namespace>:ready exists, i.e. unless the
--         state is in Redis (a Redis restarted empty has lost it; shared/rebuild.py rebuilds it from the log)
-- ARGV[9] JSON {"<topic>/<partition>": the batch's lowest offset} or "": refuse (error NEWSFLOW_BEHIND
--         part=held<first ...) when <namespace>:applied holds a lower offset than first - 1 for a partition:
--         a gap, the state is behind the log (Redis lost writes, e.g. a failover to a replica that lagged)
-- ARGV[10] JSON {"<topic>/<partition>": the batch's highest offset} or "": recorded (the maximum) in
--         <namespace>:applied with these decisions (the batch's last call)
--
-- It returns a JSON array of N decisions, in order:
--   {"s":"new"|"version"|"replay"|"dup", "id":..., "v":version, "d":dup_of, "k":"exact"|"near",
--    "r":"content"|"url"|"minhash", "sim":similarity}
--
-- Crash safety: the content key records the owner (the raw record's topic/partition/offset) and
-- the decision taken for it. A redelivered record (same owner) gets the same decision back
-- ("replay") instead of becoming a duplicate of itself.

local ns = ARGV[1]
local ttl = tonumber(ARGV[2])
local near_min = tonumber(ARGV[3])
local max_cand = tonumber(ARGV[4])
local n = tonumber(ARGV[5])
local out = {}
if ARGV[8] == '1' and redis.call('EXISTS', ns .. ':ready') == 0 then
  return redis.error_reply('NEWSFLOW_NOT_READY ' .. ns .. ': the dedup state is not in Redis (rebuild it)')
end
local applied = ns .. ':applied'
if ARGV[9] and ARGV[9] ~= '' then
  local gaps = {}
  for part, first in pairs(cjson.decode(ARGV[9])) do
    local held = tonumber(redis.call('HGET', applied, part))
    if held and held + 1 < first then gaps[#gaps + 1] = part .. '=' .. held .. '<' .. first end
  end
  if #gaps > 0 then return redis.error_reply('NEWSFLOW_BEHIND ' .. table.concat(gaps, ' ')) end
end

local function similarity(a, b)
  local slots = math.floor(#a / 4)
  if slots == 0 or #b ~= #a then return 0, 0 end
  local eq = 0
  for i = 0, slots - 1 do
    local p = i * 4 + 1
    if string.sub(a, p, p + 3) == string.sub(b, p, p + 3) then eq = eq + 1 end
  end
  return eq, slots
end

local function remember(ck, rec)
  redis.call('SET', ck, cjson.encode(rec), 'EX', ttl)
end

local function index_near(id, sig, bands)
  if sig == '' then return end
  redis.call('SET', ns .. ':s:' .. id, sig, 'EX', ttl)
  for _, b in ipairs(bands) do
    local bk = ns .. ':b:' .. b
    redis.call('SADD', bk, id)
    redis.call('EXPIRE', bk, ttl)
  end
end

local items = cjson.decode(ARGV[6])
local sigs = ARGV[7]
local sig_at = 1
for i = 1, n do
  local item = items[i]
  local sig = string.sub(sigs, sig_at, sig_at + item.n - 1)
  sig_at = sig_at + item.n
  local owner, id, c, u = item.o, item.id, item.c, item.u
  local ck = ns .. ':c:' .. c
  local cur = redis.call('GET', ck)
  local decision = nil

  if cur then
    local rec = cjson.decode(cur)
    if rec.o == owner then
      -- the same raw record again (redelivery): the same decision as before
      decision = {s = 'replay', id = rec.id, v = rec.v, d = rec.d, k = rec.k, r = rec.r, sim = rec.sim}
    elseif rec.d then
      -- this content was itself a dropped duplicate: point at the original
      decision = {s = 'dup', id = id, d = rec.d, k = 'exact', r = 'content', sim = 1}
    else
      local reason = 'content'
      if u ~= '' and rec.u == u then reason = 'url' end
      decision = {s = 'dup', id = id, d = rec.id, k = 'exact', r = reason, sim = 1}
    end
  end

  if not decision and u ~= '' then
    local uk = ns .. ':u:' .. u
    local known = redis.call('HGET', uk, 'id')
    if known then
      -- a known URL with new content: a correction / update, a new version
      local v = redis.call('HINCRBY', uk, 'v', 1)
      redis.call('EXPIRE', uk, ttl)
      remember(ck, {o = owner, id = known, v = v, u = u})
      index_near(known, sig, item.b)
      decision = {s = 'version', id = known, v = v}
    end
  end

  if not decision and sig ~= '' and near_min > 0 then
    local seen = {}
    local best, best_eq, slots, count = nil, -1, 0, 0
    for _, b in ipairs(item.b) do
      if count >= max_cand then break end
      local members = redis.call('SMEMBERS', ns .. ':b:' .. b)
      table.sort(members) -- SMEMBERS order is arbitrary: compare in id order, as MemoryDedupStore does
      for _, cand in ipairs(members) do
        if not seen[cand] and cand ~= id and count < max_cand then
          seen[cand] = true
          count = count + 1
          local other = redis.call('GET', ns .. ':s:' .. cand)
          if other then
            local eq, sl = similarity(sig, other)
            if eq >= near_min and eq > best_eq then best, best_eq, slots = cand, eq, sl end
          end
        end
      end
    end
    if best then
      local sim = best_eq / slots
      remember(ck, {o = owner, id = id, d = best, k = 'near', r = 'minhash', sim = sim, u = u})
      decision = {s = 'dup', id = id, d = best, k = 'near', r = 'minhash', sim = sim}
    end
  end

  if not decision then
    remember(ck, {o = owner, id = id, v = 1, u = u})
    if u ~= '' then
      local uk = ns .. ':u:' .. u
      redis.call('HSET', uk, 'id', id, 'v', 1)
      redis.call('EXPIRE', uk, ttl)
    end
    index_near(id, sig, item.b)
    decision = {s = 'new', id = id, v = 1}
  end

  out[i] = decision
end

if ARGV[10] and ARGV[10] ~= '' then
  for part, last in pairs(cjson.decode(ARGV[10])) do
    local held = tonumber(redis.call('HGET', applied, part))
    if not held or held < last then redis.call('HSET', applied, part, last) end
  end
  redis.call('EXPIRE', applied, ttl)
end
if n == 0 then return '[]' end
return cjson.encode(out)
