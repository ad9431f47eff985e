-- Redis Cluster, step 3 of a purchase, on the home slot: every part is taken; the order becomes
-- pending (the copy GET /api/orders/{id} reads, the outbox entry the relay publishes should the
-- API stop) and the idempotency record holds it, unless the recovery took the transaction.
-- KEYS[1] idempotency record  KEYS[2] pending order  KEYS[3] outbox ({o:K}:outbox)
-- KEYS[4] outbox entry ({o:K}:outbox:ID)  KEYS[5] transaction record  KEYS[6] open transactions
-- ARGV[1] order id  ARGV[2] order JSON  ARGV[3] order.created event  ARGV[4] API lease on the
-- outbox entry, ms  ARGV[5] pending order TTL, s  ARGV[6] Idempotency-Key ('' = none)
-- ARGV[7] idempotency record TTL, s
-- Returns {'ACCEPTED', outbox lease deadline (ms)} | {'ABORTED'} (nothing written: undo the parts)
if redis.call('HGET', KEYS[5], 'state') ~= 'reserving' then return {'ABORTED'} end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local deadline = now + tonumber(ARGV[4])
redis.call('SET', KEYS[2], ARGV[2], 'EX', tonumber(ARGV[5]))
redis.call('ZADD', KEYS[3], deadline, ARGV[1])
redis.call('HSET', KEYS[4], 'event', ARGV[3], 'idem', ARGV[6] ~= '' and KEYS[1] or '', 'lease', deadline)
if ARGV[6] ~= '' then
  redis.call('HSET', KEYS[1], 'state', 'reserved', 'order_json', ARGV[2])
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[7]))
end
redis.call('DEL', KEYS[5])
redis.call('ZREM', KEYS[6], ARGV[1])
return {'ACCEPTED', tostring(deadline)}
