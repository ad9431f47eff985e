-- Redis Cluster: the recovery takes the transactions of one home partition whose lease ended
-- (their API stopped, or gave them up) and leases them to itself while it undoes their parts.
-- 'aborting' first, atomically: a commit that comes later refuses.
-- KEYS[1] open transactions ({o:K}:txns)  ARGV[1] transaction key prefix ('{o:K}:txn:')
-- ARGV[2] batch  ARGV[3] the recovery's lease, ms
-- Returns {order id, user id, items ("bucket:quantity,..."), idempotency record ('' none),
-- transfers between buckets (cluster_note_transfer.lua, '' none), ...}.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
for _, id in ipairs(due) do
  local t = redis.call('HMGET', ARGV[1] .. id, 'user', 'items', 'idem', 'xfers')
  if t[1] then
    redis.call('HSET', ARGV[1] .. id, 'state', 'aborting')
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), id)
    out[#out + 1] = id
    out[#out + 1] = t[1]
    out[#out + 1] = t[2]
    out[#out + 1] = t[3] or ''
    out[#out + 1] = t[4] or ''
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return out
