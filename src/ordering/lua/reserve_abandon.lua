-- The reply of reserve.lua was lost (the connection dropped while it was in flight): did the
-- reservation run? If it did, its pending order exists and the purchase stands (the relay
-- publishes it when the API's lease ends). If it did not, the abandoned marker makes sure it
-- never will: a copy of the script still on its way to Redis finds the marker and does nothing.
-- One atomic decision, so the API never answers "nothing reserved" for a reservation that ran.
-- KEYS[1] order:{id}  KEYS[2] abandoned:{id}  ARGV[1] the marker's TTL, s
-- Returns the pending order JSON when the reservation ran, else false (nil) after marking it.
local order = redis.call('GET', KEYS[1])
if order then return order end
redis.call('SET', KEYS[2], '1', 'EX', ARGV[1])
return false
