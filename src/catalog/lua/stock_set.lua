-- Sets the number available to buy and returns the change as a delta, atomically with
-- respect to purchases (which decrement the same counter). The caller applies the same delta
-- to PostgreSQL, so both converge whatever order the deltas of orders arrive in.
-- KEYS[1] {p:ID}:stock  ARGV[1] new stock
-- Returns {delta, 1}, or {0, 0} when there was no counter (the caller then uses its record).
local current = redis.call('GET', KEYS[1])
redis.call('SET', KEYS[1], ARGV[1])
if not current then
  return {0, 0}
end
return {tonumber(ARGV[1]) - tonumber(current), 1}
