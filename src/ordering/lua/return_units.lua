-- An order was FAILED by a worker (PostgreSQL's stock could not cover it), CANCELLED or EXPIRED (its
-- payment window passed): its units go back to the counters and to the buyer's counts, exactly
-- once whatever the redeliveries.
-- KEYS[1] returned:{order id} (the once-marker)  KEYS[2] order:{id}  KEYS[3..] per item: stock, buyers
-- ARGV[1] user id  ARGV[2] marker TTL, s  ARGV[3..] per item: quantity
-- Returns 1 when the units were returned now, 0 when they had been already.
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', tonumber(ARGV[2])) then
  return 0
end
for i = 1, (#KEYS - 2) / 2 do
  local qty = tonumber(ARGV[2 + i])
  local stock = KEYS[2 + (i - 1) * 2 + 1]
  -- A deactivated product has no counter any more: nothing to give back to.
  if redis.call('EXISTS', stock) == 1 then
    redis.call('INCRBY', stock, qty)
  end
  local left = redis.call('HINCRBY', KEYS[2 + (i - 1) * 2 + 2], ARGV[1], -qty)
  if left <= 0 then
    redis.call('HDEL', KEYS[2 + (i - 1) * 2 + 2], ARGV[1])
  end
end
redis.call('DEL', KEYS[2])
return 1
