-- newsflow ingest: write the dedup keys of one batch of log records (services/ingest/rebuild.py).
--
-- ARGV[1] namespace prefix (e.g. "newsflow:dedup")
-- ARGV[2] JSON {"c": [[content hash, decision JSON, ttl], ...], "u": [[url hash, article id, version, ttl], ...],
--               "s": [[article id, signature byte length, ttl], ...], "b": [[article id, [band, ...], ttl], ...]}
-- ARGV[3] the signatures of "s", one after the other
--
-- Content keys are only created (the first decision for a content stands); URL keys and signatures
-- take the values given (the caller sends an article's highest version last); band sets get the
-- member and keep the later of their expiry and the given one. Returns the number of keys written.

local ns = ARGV[1]
local batch = cjson.decode(ARGV[2])
local sigs = ARGV[3]
local n = 0

for _, c in ipairs(batch.c) do
  redis.call('SET', ns .. ':c:' .. c[1], c[2], 'EX', c[3], 'NX')
  n = n + 1
end
for _, u in ipairs(batch.u) do
  local k = ns .. ':u:' .. u[1]
  redis.call('HSET', k, 'id', u[2], 'v', u[3])
  redis.call('EXPIRE', k, u[4])
  n = n + 1
end
local at = 1
for _, s in ipairs(batch.s) do
  redis.call('SET', ns .. ':s:' .. s[1], string.sub(sigs, at, at + s[2] - 1), 'EX', s[3])
  at = at + s[2]
  n = n + 1
end
for _, b in ipairs(batch.b) do
  for _, band in ipairs(b[2]) do
    local k = ns .. ':b:' .. band
    redis.call('SADD', k, b[1])
    local left = redis.call('TTL', k)
    if left < b[3] then redis.call('EXPIRE', k, b[3]) end
    n = n + 1
  end
end
return n
