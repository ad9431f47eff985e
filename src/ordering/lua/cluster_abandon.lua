-- Redis Cluster: a reply of the purchase was lost (reserve_abandon.lua's twin). Committed: the
-- pending order is returned and the purchase stands. Not committed: the abandoned marker stops
-- a begin still on its way, and an open transaction is handed to the recovery at once
-- ('aborting', due now), which undoes its parts; a commit still on its way then refuses.
-- KEYS[1] pending order  KEYS[2] abandoned marker  KEYS[3] transaction record
-- KEYS[4] open transactions  ARGV[1] the marker's TTL, s  ARGV[2] order id
-- Returns the pending order JSON, or false (nil) after marking it.
local order = redis.call('GET', KEYS[1])
if order then return order end
redis.call('SET', KEYS[2], '1', 'EX', tonumber(ARGV[1]))
if redis.call('HGET', KEYS[3], 'state') == 'reserving' then
  redis.call('HSET', KEYS[3], 'state', 'aborting')
  redis.call('ZADD', KEYS[4], 0, ARGV[2])
end
return false
