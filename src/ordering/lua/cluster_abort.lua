-- Redis Cluster: the end of a purchase that did not commit, on the home slot, once its parts
-- are undone: the transaction goes, and so does the idempotency record it wrote (a retry with
-- the key is then decided afresh, as after a refusal).
-- KEYS[1] idempotency record  KEYS[2] transaction record  KEYS[3] open transactions
-- ARGV[1] order id
-- Returns 1.
local owner = redis.call('HMGET', KEYS[1], 'order_id', 'state')
if owner[1] == ARGV[1] and owner[2] == 'reserving' then redis.call('DEL', KEYS[1]) end
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
