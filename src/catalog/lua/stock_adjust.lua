-- Moves one counter of a product split into stockBuckets by a change, never below 0, atomically
-- with respect to purchases (a PUT of `stock` spreads its change over the buckets). The caller
-- applies the sum of what moved to PostgreSQL, as it does stock_set.lua's delta.
-- KEYS[1] {p:ID#b}:stock  ARGV[1] the change (negative: a fall)
-- Returns the change made: a fall takes at most what the counter holds; 0 without a counter.
local current = redis.call('GET', KEYS[1])
if not current then return 0 end
local change = tonumber(ARGV[1])
if change < 0 and -change > tonumber(current) then change = -tonumber(current) end
if change ~= 0 then redis.call('INCRBY', KEYS[1], change) end
return change
