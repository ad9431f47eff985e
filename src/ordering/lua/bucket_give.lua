-- Redis Cluster, a hot product in buckets: the first half of a transfer of units from one bucket
-- to a buyer's home bucket that is short (docs/architecture.md, "Hot products in buckets").
-- Takes up to the units asked from this bucket's counter and records how many left, once per
-- transfer id: a repeated give answers the first one's number, and a give after the transfer
-- was voided (bucket_void.lua: its API stopped) does nothing.
-- KEYS[1] {p:ID#s}:stock  KEYS[2] the transfer's record {p:ID#s}:xfer:XID
-- ARGV[1] units asked  ARGV[2] record TTL, s
-- Returns the units that left this bucket for the transfer (0: none, or voided).
local done = redis.call('GET', KEYS[2])
if done then return tonumber(done) end
local left = tonumber(redis.call('GET', KEYS[1]) or '0')
local units = math.min(tonumber(ARGV[1]), left)
if units < 0 then units = 0 end
if units > 0 then redis.call('DECRBY', KEYS[1], units) end
redis.call('SET', KEYS[2], units, 'EX', tonumber(ARGV[2]))
return units
