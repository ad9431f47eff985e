-- Redis Cluster: the event never reached the broker (outbox_release.lua's twin, on the home
-- slot): unless the relay claimed the entry meanwhile, the order goes, and its units are handed
-- back through a transaction record in 'aborting' that the API undoes at once (and the
-- recovery, should the API stop first).
-- KEYS[1] outbox  KEYS[2] outbox entry  KEYS[3] pending order  KEYS[4] transaction record
-- KEYS[5] open transactions
-- ARGV[1] order id  ARGV[2] the lease the API set  ARGV[3] user id  ARGV[4] the items
-- Returns 1 when released (undo the parts now), 0 when the relay owns the entry (or it is gone).
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) ~= tonumber(ARGV[2]) then return 0 end
local idem = redis.call('HGET', KEYS[2], 'idem')
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2], KEYS[3])
if idem and idem ~= '' then redis.call('DEL', idem) end
redis.call('HSET', KEYS[4], 'state', 'aborting', 'user', ARGV[3], 'items', ARGV[4], 'lease', 0)
redis.call('EXPIRE', KEYS[4], 7 * 86400)
redis.call('ZADD', KEYS[5], 0, ARGV[1])
return 1
