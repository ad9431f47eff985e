-- Redis Cluster: a FAILED, CANCELLED or EXPIRED order's units back on one product slot, once
-- (return_units.lua's twin; the caller deletes the pending copy on the home slot).
-- KEYS[1] once-marker ({p:FIRST}:returned:ORDER)  KEYS[2] the part  KEYS[3] its tombstone
-- KEYS[4..] per item: {p:ID}:stock, {p:ID}:buyers
-- ARGV[1] user id  ARGV[2] marker TTL, s  ARGV[3..] per item: quantity
-- Returns 1 when the units went back now, 0 when they had (or were untaken: the tombstone).
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', tonumber(ARGV[2])) then return 0 end
for i = 1, (#KEYS - 3) / 2 do
  local qty = tonumber(ARGV[2 + i])
  local stock, buyers = KEYS[3 + (i - 1) * 2 + 1], KEYS[3 + (i - 1) * 2 + 2]
  if redis.call('EXISTS', stock) == 1 then redis.call('INCRBY', stock, qty) end
  if redis.call('HINCRBY', buyers, ARGV[1], -qty) <= 0 then redis.call('HDEL', buyers, ARGV[1]) end
end
redis.call('DEL', KEYS[2])
return 1
