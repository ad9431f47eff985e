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
-- ARGV[6] createdAt (RFC 3339)  ARGV[7] the order.created event up to its data member
--   ('{"id":...,"data":', ordering/order_event.cpp builds it; this script adds the data and '}')
-- ARGV[8] API lease on the outbox entry, ms
-- ARGV[9] idempotency record TTL, s  ARGV[10] pending order TTL, s
-- ARGV[11] createdAt, ms since the epoch  ARGV[12] the service's payment window, s, for products
--   that set none ('' = none)
-- ARGV[13..] per item: product id, quantity
--
-- Returns codes and data, never a response (the API words the answer, ordering/order_intake.cpp):
--   {'ACCEPTED', order JSON, outbox lease deadline (ms), event JSON}
--   {'REPLAY', order JSON}            the key's earlier purchase, accepted
--   {'REFUSED', code, item number (1-based), a, b}: PRODUCT_NOT_FOUND, SALE_NOT_ACTIVE,
--       PURCHASE_LIMIT_EXCEEDED (a = the limit, b = units the user has), OUT_OF_STOCK (a = left)
--   {'INVALID', 'LINE', item number} | {'INVALID', 'ORDER'}: a total above what the record holds
--   {'IN_PROGRESS'} | {'KEY_REUSED'} | {'ABANDONED'}

local user, idem_key, fingerprint = ARGV[1], ARGV[2], ARGV[3]
local order_id, reference, created_at, event_head = ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local lease_ms, idem_ttl, order_ttl = tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10])
local created_ms, default_window = tonumber(ARGV[11]), tonumber(ARGV[12])
local n = (#KEYS - 5) / 3
-- The most an order (and a line) may total, in cents: 999,999,999,999.99. A Lua number (a
-- double) holds every cent of it exactly, and the record's numeric(19,2) columns hold more, so
-- an order accepted here always fits in PostgreSQL.
local kMaxTotalCents = 99999999999999

if redis.call('EXISTS', KEYS[5]) == 1 then return {'ABANDONED'} end

if idem_key ~= '' and redis.call('EXISTS', KEYS[1]) == 1 then
  -- (EXISTS first: most keys are new, and an integer reply costs less than four nils.)
  local record = redis.call('HMGET', KEYS[1], 'fp', 'state', 'order_json', 'body')
  if record[1] then
    if record[1] ~= fingerprint then return {'KEY_REUSED'} end
    if record[2] == 'reserved' then return {'IN_PROGRESS'} end
    -- A record written before this version holds the whole 202 body: its order is inside
    -- '{"success":true,"data":' .. order .. '}'.
    return {'REPLAY', record[3] or string.sub(record[4], 24, -2)}
  end
end

local function money(cents)
  return string.format('%d.%02d', math.floor(cents / 100), cents % 100)
end

-- RFC 3339 in UTC with milliseconds, as common/time.cpp writes it (civil_from_days, after
-- Howard Hinnant's date algorithms): Lua in Redis has no os.date.
local function rfc3339(ms)
  local days = math.floor(ms / 86400000)
  local in_day = ms - days * 86400000
  local z = days + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local d = doy - math.floor((153 * mp + 2) / 5) + 1
  local m = mp < 10 and mp + 3 or mp - 9
  local y = yoe + era * 400 + (m <= 2 and 1 or 0)
  return string.format('%04d-%02d-%02dT%02d:%02d:%02d.%03dZ', y, m, d, math.floor(in_day / 3600000),
      math.floor(in_day / 60000) % 60, math.floor(in_day / 1000) % 60, in_day % 1000)
end

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

-- Read every item's rules and counters once.
local items = {}
for i = 1, n do
  local base = 5 + (i - 1) * 3
  local info = redis.call('HMGET', KEYS[base + 2], 'active', 'price', 'max', 'starts', 'ends', 'window')
  items[i] = {
    stock_key = KEYS[base + 1], buyers_key = KEYS[base + 3],
    product = ARGV[12 + (i - 1) * 2 + 1], qty = tonumber(ARGV[12 + (i - 1) * 2 + 2]),
    active = info[1], price = tonumber(info[2]), max = tonumber(info[3]),
    starts = tonumber(info[4]), ends = tonumber(info[5]), window = tonumber(info[6]) or default_window,
  }
end

for i, it in ipairs(items) do
  if it.active ~= '1' or not it.price then
    return {'REFUSED', 'PRODUCT_NOT_FOUND', i}
  end
end
local total = 0
for i, it in ipairs(items) do
  local line = it.price * it.qty
  if line > kMaxTotalCents then
    return {'INVALID', 'LINE', i}
  end
  total = total + line
end
if total > kMaxTotalCents then
  return {'INVALID', 'ORDER'}
end
for i, it in ipairs(items) do
  if (it.starts and now < it.starts) or (it.ends and now >= it.ends) then
    return {'REFUSED', 'SALE_NOT_ACTIVE', i}
  end
end
for i, it in ipairs(items) do
  if it.max then
    local bought = tonumber(redis.call('HGET', it.buyers_key, user) or '0')
    if bought + it.qty > it.max then
      return {'REFUSED', 'PURCHASE_LIMIT_EXCEEDED', i, it.max, bought}
    end
  end
end
for i, it in ipairs(items) do
  local left = redis.call('GET', it.stock_key) or '0'
  if tonumber(left) < it.qty then
    return {'REFUSED', 'OUT_OF_STOCK', i, left}
  end
end

-- Every rule holds for every item: take the stock. The buyer has the smallest payment window
-- among the items to pay (SPEC: expiresAt), or for ever when none has one.
local window = nil
local parts = {}
for i, it in ipairs(items) do
  if it.window and (not window or it.window < window) then window = it.window end
  redis.call('DECRBY', it.stock_key, it.qty)
  redis.call('HINCRBY', it.buyers_key, user, it.qty)
  local line = it.price * it.qty
  parts[i] = '{"productId":"' .. it.product .. '","quantity":' .. it.qty .. ',"unitPrice":' .. money(it.price) ..
      ',"totalPrice":' .. money(line) .. '}'
end

local order = '{"id":"' .. order_id .. '","referenceNo":"' .. reference .. '","userId":"' .. user ..
    '","status":"PENDING","items":[' .. table.concat(parts, ',') .. '],"totalPrice":' .. money(total) ..
    ',"createdAt":"' .. created_at .. '","expiresAt":' ..
    (window and ('"' .. rfc3339(created_ms + window * 1000) .. '"') or 'null') .. '}'
-- Everything a worker needs to persist the order without reading Redis.
local idem_json = 'null'
if idem_key ~= '' then idem_json = cjson.encode(idem_key) end
local event = event_head .. '{"order":' .. order .. ',"idempotencyKey":' .. idem_json .. '}}'

redis.call('SET', KEYS[2], order, 'EX', order_ttl)
redis.call('ZADD', KEYS[3], now + lease_ms, order_id)
redis.call('HSET', KEYS[4], 'event', event, 'idem', idem_key ~= '' and KEYS[1] or '', 'lease', now + lease_ms)
if idem_key ~= '' then
  redis.call('HSET', KEYS[1], 'fp', fingerprint, 'state', 'reserved', 'order_json', order)
  redis.call('EXPIRE', KEYS[1], idem_ttl)
end
return {'ACCEPTED', order, tostring(now + lease_ms), event}
