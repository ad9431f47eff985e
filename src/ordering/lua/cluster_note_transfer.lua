-- Redis Cluster, a hot product in buckets: before the purchase moves units into the buyer's home
-- bucket (bucket_give.lua, bucket_receive.lua), the transfer is written into the order's
-- transaction record, so a recovery of a purchase whose API stopped mid-transfer settles it
-- (the units that left a bucket arrive in the home bucket) before it undoes the parts.
-- KEYS[1] the transaction record ({o:K}:txn:ID)
-- ARGV[1] the transfer, "product:buckets:home:transfer id"
-- Returns 1 when noted; 0 when the transaction is no longer reserving (the recovery took it):
-- the caller then gives up the purchase without moving anything.
if redis.call('HGET', KEYS[1], 'state') ~= 'reserving' then return 0 end
local noted = redis.call('HGET', KEYS[1], 'xfers')
redis.call('HSET', KEYS[1], 'xfers', noted and (noted .. ',' .. ARGV[1]) or ARGV[1])
return 1
