-- The relay takes outbox entries whose lease has expired (their API process died or lost the
-- broker) and leases them to itself; two relays never take the same entry at once.
-- KEYS[1] outbox  ARGV[1] outbox entry key prefix ('outbox:')  ARGV[2] lease ms  ARGV[3] batch
-- Returns {order id, event, ...}.
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, id in ipairs(due) do
  local event = redis.call('HGET', ARGV[1] .. id, 'event')
  if event then
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), id)
    redis.call('HSET', ARGV[1] .. id, 'lease', now + tonumber(ARGV[2]))
    out[#out + 1] = id
    out[#out + 1] = event
  else
    redis.call('ZREM', KEYS[1], id)  -- nothing left to publish
  end
end
return out
