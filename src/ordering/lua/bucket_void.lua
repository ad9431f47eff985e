-- Redis Cluster, a hot product in buckets: settles a transfer whose API may have stopped, on the
-- source bucket. A give that ran keeps its number; one that did not run now never will (the
-- record says 0). The caller then credits the target with what this returns (bucket_receive.lua,
-- once per transfer id), so the units that left arrive whatever step the API stopped at.
-- KEYS[1] the transfer's record {p:ID#s}:xfer:XID  ARGV[1] record TTL, s
-- Returns the units that left the source for this transfer.
redis.call('SET', KEYS[1], '0', 'NX', 'EX', tonumber(ARGV[1]))
return tonumber(redis.call('GET', KEYS[1]))
