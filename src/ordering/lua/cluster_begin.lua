-- Redis Cluster, step 1 of a purchase, on the order's home slot {o:K} (docs/architecture.md,
-- "Orders across slots"): the idempotency decision and the transaction record that lets a
-- recovery undo the steps that follow should the API stop before its commit.
-- KEYS[1] idempotency record ({o:K}:idem:USER:KEY; a name in the slot but unused when ARGV[1] == '')
-- KEYS[2] abandoned marker  KEYS[3] transaction record ({o:K}:txn:ID)
-- KEYS[4] the partition's open transactions (zset: order id -> lease deadline, ms)
-- ARGV[1] Idempotency-Key ('' = none)  ARGV[2] request fingerprint  ARGV[3] order id
-- ARGV[4] lease, ms (longer than the API takes to commit)  ARGV[5] idempotency record TTL, s
-- ARGV[6] user id  ARGV[7] the items, "product:quantity,..." in request order
-- Returns {'BEGUN'} | {'REPLAY', order JSON} | {'IN_PROGRESS'} | {'KEY_REUSED'} | {'ABANDONED'}
if redis.call('EXISTS', KEYS[2]) == 1 then return {'ABANDONED'} end
local idem_key = ARGV[1]
if idem_key ~= '' then
  local record = redis.call('HMGET', KEYS[1], 'fp', 'state', 'order_json')
  if record[1] then
    if record[1] ~= ARGV[2] then return {'KEY_REUSED'} end
    if record[2] == 'done' then return {'REPLAY', record[3]} end
    return {'IN_PROGRESS'}  -- 'reserving' or 'reserved': the first request is not settled yet
  end
end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local deadline = now + tonumber(ARGV[4])
-- The transaction first: should Redis refuse a later write (maxmemory), nothing is held that
-- the recovery would not find.
redis.call('HSET', KEYS[3], 'state', 'reserving', 'user', ARGV[6], 'items', ARGV[7], 'lease', deadline,
    'idem', idem_key ~= '' and KEYS[1] or '')
redis.call('EXPIRE', KEYS[3], 7 * 86400)
redis.call('ZADD', KEYS[4], deadline, ARGV[3])
if idem_key ~= '' then
  redis.call('HSET', KEYS[1], 'fp', ARGV[2], 'state', 'reserving', 'order_id', ARGV[3])
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[5]))
end
return {'BEGUN'}
