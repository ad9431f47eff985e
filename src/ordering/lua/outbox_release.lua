-- The event never reached the broker: undo the reservation, unless the relay has claimed the
-- entry meanwhile (then the relay publishes it and the purchase stands). One atomic decision,
-- so an order is never both released and published, nor neither.
-- KEYS[1] outbox  KEYS[2] outbox:{id}  KEYS[3] order:{id}  KEYS[4..] per item: stock, buyers
-- ARGV[1] order id  ARGV[2] the lease the API set  ARGV[3] user id  ARGV[4..] per item: quantity
-- Returns 1 when released, 0 when the relay owns the entry (or it is gone).
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) ~= tonumber(ARGV[2]) then
  return 0
end
local idem = redis.call('HGET', KEYS[2], 'idem')
for i = 1, (#KEYS - 3) / 2 do
  local qty = tonumber(ARGV[3 + i])
  -- A product deactivated meanwhile has no counter any more: do not bring one back.
  if redis.call('EXISTS', KEYS[3 + (i - 1) * 2 + 1]) == 1 then
    redis.call('INCRBY', KEYS[3 + (i - 1) * 2 + 1], qty)
  end
  local left = redis.call('HINCRBY', KEYS[3 + (i - 1) * 2 + 2], ARGV[3], -qty)
  if left <= 0 then
    redis.call('HDEL', KEYS[3 + (i - 1) * 2 + 2], ARGV[3])
  end
end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2], KEYS[3])
if idem and idem ~= '' then
  redis.call('DEL', idem)
end
return 1
