-- The broker confirmed order.created events: their outbox entries go, and a request with the
-- same Idempotency-Key now replays the 202 instead of answering REQUEST_IN_PROGRESS. One call
-- confirms one order or a group of them (the API gathers the confirms of one round trip).
-- KEYS[1] outbox  KEYS[1+i] outbox:{id i}  ARGV[i] order id i (i = 1..n, n >= 1)
-- Returns how many entries this call removed (an entry someone else confirmed or released
-- already counts 0).
local removed = redis.call('ZREM', KEYS[1], unpack(ARGV))
for i = 1, #ARGV do
  local entry = KEYS[i + 1]
  local idem = redis.call('HGET', entry, 'idem')
  -- Only a record that still exists: HSET on one that expired would create it again without a TTL.
  if idem and idem ~= '' and redis.call('EXISTS', idem) == 1 then
    redis.call('HSET', idem, 'state', 'done')
  end
end
redis.call('DEL', unpack(KEYS, 2, #ARGV + 1))
return removed
