-- Redis Cluster, a hot product in buckets: the second half of a transfer, on the target bucket.
-- Credits the units once per transfer id, however often it is replayed.
-- KEYS[1] {p:ID#t}:stock  KEYS[2] the once-marker {p:ID#t}:xin:XID
-- ARGV[1] units  ARGV[2] marker TTL, s
-- Returns 1 when credited now, 0 when it had been (or the product was deactivated: no counter).
if not redis.call('SET', KEYS[2], '1', 'NX', 'EX', tonumber(ARGV[2])) then return 0 end
if tonumber(ARGV[1]) <= 0 or redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('INCRBY', KEYS[1], tonumber(ARGV[1]))
return 1
