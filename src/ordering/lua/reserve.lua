-- The purchase: one atomic step over every item of the order, all or nothing.
--   idempotency check -> product active -> sale window -> per-user limit -> stock
--   -> decrement counters, add to the user's counts, write the pending order, the outbox entry
--      and the idempotency record.
-- A refusal writes nothing (SPEC: refusals are not stored; a retry with the same key is decided
-- afresh and a crowd of refused buyers costs Redis no memory). Under maxmemory with noeviction
-- the first write (DECRBY) is the one Redis refuses with OOM, so a refused write leaves nothing
-- half-written.
-- No locks and no retries: Redis runs scripts one at a time, so while stock remains every
-- valid purchase succeeds however many arrive at once.
--
-- KEYS[1] idempotency record (idem:{user}:{key}; unused when ARGV[2] == '')
-- KEYS[2] pending order record (order:{id})
-- KEYS[3] outbox (sorted set: order id -> lease deadline in ms)
-- KEYS[4] outbox entry (outbox:{id}: hash with the event and the idempotency record's name)
-- KEYS[5] abandoned marker (abandoned:{id}): set when the API gave this order up after losing
--         the reply of an earlier attempt to run this script (reserve_abandon.lua)
-- KEYS[6..] per item, three keys: {p:ID}:stock, {p:ID}:info, {p:ID}:buyers
-- ARGV[1] user id (validated: [A-Za-z0-9_.@-]{1,64})  ARGV[2] idempotency key ('' = none)
-- ARGV[3] request fingerprint  ARGV[4] order id  ARGV[5] reference number
-- ARGV[6] createdAt (RFC 3339)  ARGV[7] event id  ARGV[8] API lease on the outbox entry, ms
-- ARGV[9] idempotency record TTL, s  ARGV[10] pending order TTL, s
-- ARGV[11..] per item: product id, quantity
--
-- Returns {kind, status, body}: kind is 'ACCEPTED', 'REFUSED', 'INVALID' (a total the record
-- cannot hold), 'REPLAY', 'IN_PROGRESS', 'KEY_REUSED' or 'ABANDONED'; body is the response JSON
-- for ACCEPTED, REFUSED, INVALID and REPLAY.

local user, idem_key, fingerprint = ARGV[1], ARGV[2], ARGV[3]
local order_id, reference, created_at, event_id = ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local lease_ms, idem_ttl, order_ttl = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10])
local n = (#KEYS - 5) / 3
-- The most an order (and a line) may total, in cents: 999,999,999,999.99. A Lua number (a
-- double) holds every cent of it exactly, and the record's numeric(19,2) columns hold more, so
-- an order accepted here always fits in PostgreSQL.
local kMaxTotalCents = 99999999999999

if redis.call('EXISTS', KEYS[5]) == 1 then return {'ABANDONED', 503, ''} end

if idem_key ~= '' and redis.call('EXISTS', KEYS[1]) == 1 then
  -- (EXISTS first: most keys are new, and an integer reply costs less than four nils.)
  local record = redis.call('HMGET', KEYS[1], 'fp', 'state', 'status', 'body')
  if record[1] then
    if record[1] ~= fingerprint then return {'KEY_REUSED', 422, ''} end
    if record[2] == 'reserved' then return {'IN_PROGRESS', 409, ''} end
    return {'REPLAY', tonumber(record[3]), record[4]}
  end
end

local function money(cents)
  return string.format('%d.%02d', math.floor(cents / 100), cents % 100)
end

-- Messages hold only product ids (validated UUIDs) and numbers: nothing to escape.
local function refuse(status, code, message, i, product_id)
  local body = '{"success":false,"error":"' .. message .. '","code":"' .. code ..
      '","details":[{"field":"items[' .. (i == 1 and '0' or tostring(i - 1)) .. '].productId","productId":"' .. product_id ..
      '","message":"' .. message .. '"}]}'
  return {'REFUSED', status, body}
end

local function invalid(field, message)
  return {'INVALID', 400, '{"success":false,"error":"Request validation failed","code":"VALIDATION_FAILED",' ..
      '"details":[{"field":"' .. field .. '","message":"' .. message .. '"}]}'}
end

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

-- Read every item's rules and counters once.
local items = {}
for i = 1, n do
  local base = 5 + (i - 1) * 3
  local info = redis.call('HMGET', KEYS[base + 2], 'active', 'price', 'max', 'starts', 'ends')
  items[i] = {
    stock_key = KEYS[base + 1], buyers_key = KEYS[base + 3],
    product = ARGV[10 + (i - 1) * 2 + 1], qty = tonumber(ARGV[10 + (i - 1) * 2 + 2]),
    active = info[1], price = tonumber(info[2]), max = tonumber(info[3]),
    starts = tonumber(info[4]), ends = tonumber(info[5]),
  }
end

for i, it in ipairs(items) do
  if it.active ~= '1' or not it.price then
    return refuse(404, 'PRODUCT_NOT_FOUND', 'Product ' .. it.product .. ' does not exist or is not on sale', i, it.product)
  end
end
local total = 0
for i, it in ipairs(items) do
  local line = it.price * it.qty
  if line > kMaxTotalCents then
    return invalid('items[' .. (i - 1) .. '].quantity', 'makes a line total above 999999999999.99, the most an order can hold')
  end
  total = total + line
end
if total > kMaxTotalCents then
  return invalid('items', 'make an order total above 999999999999.99, the most an order can hold')
end
for i, it in ipairs(items) do
  if (it.starts and now < it.starts) or (it.ends and now >= it.ends) then
    return refuse(409, 'SALE_NOT_ACTIVE', 'The sale of product ' .. it.product .. ' is not open now', i, it.product)
  end
end
for i, it in ipairs(items) do
  if it.max then
    local bought = tonumber(redis.call('HGET', it.buyers_key, user) or '0')
    if bought + it.qty > it.max then
      return refuse(409, 'PURCHASE_LIMIT_EXCEEDED', 'At most ' .. it.max .. ' units of product ' .. it.product ..
          ' per user; this user already has ' .. bought, i, it.product)
    end
  end
end
for i, it in ipairs(items) do
  local left = redis.call('GET', it.stock_key) or '0'
  if tonumber(left) < it.qty then
    -- The texts of the counter and of ARGV, not the numbers: formatting a Lua number costs more.
    return refuse(409, 'OUT_OF_STOCK', 'Product ' .. it.product .. ' has ' .. left .. ' units left, ' ..
        ARGV[10 + i * 2] .. ' requested', i, it.product)
  end
end

-- Every rule holds for every item: take the stock.
local parts = {}
for i, it in ipairs(items) do
  redis.call('DECRBY', it.stock_key, it.qty)
  redis.call('HINCRBY', it.buyers_key, user, it.qty)
  local line = it.price * it.qty
  parts[i] = '{"productId":"' .. it.product .. '","quantity":' .. it.qty .. ',"unitPrice":' .. money(it.price) ..
      ',"totalPrice":' .. money(line) .. '}'
end

local order = '{"id":"' .. order_id .. '","referenceNo":"' .. reference .. '","userId":"' .. user ..
    '","status":"PENDING","items":[' .. table.concat(parts, ',') .. '],"totalPrice":' .. money(total) ..
    ',"createdAt":"' .. created_at .. '"}'
local body = '{"success":true,"data":' .. order .. '}'
-- Everything a worker needs to persist the order without reading Redis.
local idem_json = 'null'
if idem_key ~= '' then idem_json = cjson.encode(idem_key) end
local event = '{"id":"' .. event_id .. '","type":"order.created","version":1,"occurredAt":"' .. created_at ..
    '","data":{"order":' .. order .. ',"idempotencyKey":' .. idem_json .. '}}'

redis.call('SET', KEYS[2], order, 'EX', order_ttl)
redis.call('ZADD', KEYS[3], now + lease_ms, order_id)
redis.call('HSET', KEYS[4], 'event', event, 'idem', idem_key ~= '' and KEYS[1] or '', 'lease', now + lease_ms)
if idem_key ~= '' then
  redis.call('HSET', KEYS[1], 'fp', fingerprint, 'state', 'reserved', 'status', 202, 'body', body, 'order', order_id)
  redis.call('EXPIRE', KEYS[1], idem_ttl)
end
return {'ACCEPTED', 202, body, tostring(now + lease_ms), event}
