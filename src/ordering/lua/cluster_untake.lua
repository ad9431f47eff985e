-- Redis Cluster: undo step 2 on one product slot (a refusal elsewhere, a release, the recovery
-- of a transaction whose API stopped). Idempotent, and final: the tombstone makes a take of
-- this part that is still on its way do nothing.
-- KEYS[1] the part  KEYS[2] its tombstone  KEYS[3..] per item: {p:ID}:stock, {p:ID}:buyers
-- ARGV[1] user id  ARGV[2] tombstone TTL, s  ARGV[3..] per item: quantity
-- Returns 1 when the units went back now, 0 when nothing was taken here (or it went back before).
redis.call('SET', KEYS[2], '1', 'EX', tonumber(ARGV[2]))
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for i = 1, (#KEYS - 2) / 2 do
  local qty = tonumber(ARGV[2 + i])
  local stock, buyers = KEYS[2 + (i - 1) * 2 + 1], KEYS[2 + (i - 1) * 2 + 2]
  -- A product deactivated meanwhile has no counter any more: do not bring one back.
  if redis.call('EXISTS', stock) == 1 then redis.call('INCRBY', stock, qty) end
  if redis.call('HINCRBY', buyers, ARGV[1], -qty) <= 0 then redis.call('HDEL', buyers, ARGV[1]) end
end
redis.call('DEL', KEYS[1])
return 1
