-- The broker confirmed the order.created event: the outbox entry goes, and a request with the
-- same Idempotency-Key now replays the 202 instead of answering REQUEST_IN_PROGRESS.
-- KEYS[1] outbox  KEYS[2] outbox:{id}  ARGV[1] order id
-- Returns 1 when this call removed the entry (0: someone else confirmed or released it).
local idem = redis.call('HGET', KEYS[2], 'idem')
local removed = redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
-- Only a record that still exists: HSET on one that expired would create it again without a TTL.
if idem and idem ~= '' and redis.call('EXISTS', idem) == 1 then
  redis.call('HSET', idem, 'state', 'done')
end
return removed
