-- Redis Cluster, step 2 of a purchase, on one product slot: the order's items in this slot,
-- every rule checked (as reserve.lua does, in its order), then all of them taken or none.
-- KEYS[1] the part ({p:FIRST}:part:ORDER, FIRST = the smallest product id of the group)
-- KEYS[2] its tombstone ({p:FIRST}:void:ORDER): set by an untake, it refuses a late take
-- KEYS[3..] per item, three keys: {p:ID}:stock, {p:ID}:info, {p:ID}:buyers
-- ARGV[1] user id  ARGV[2] part TTL, s  ARGV[3] the service's payment window, s ('' = none)
-- ARGV[4..] per item: product id, quantity
-- Returns {'TAKEN', unit price (cents), payment window (s, or ''), ... per item}, the same
-- again for a part already taken; {'REFUSED', code, item (1-based in the group), a, b} as
-- reserve.lua; {'INVALID', 'LINE', item}; {'VOID'} when the order was rolled back here.
if redis.call('EXISTS', KEYS[2]) == 1 then return {'VOID'} end
local done = redis.call('HGET', KEYS[1], 'result')
if done then return cjson.decode(done) end
local user, default_window = ARGV[1], tonumber(ARGV[3])
local n = (#KEYS - 2) / 3
local kMaxTotalCents = 99999999999999
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)

local items = {}
for i = 1, n do
  local base = 2 + (i - 1) * 3
  local info = redis.call('HMGET', KEYS[base + 2], 'active', 'price', 'max', 'starts', 'ends', 'window')
  items[i] = {
    stock_key = KEYS[base + 1], buyers_key = KEYS[base + 3], qty = tonumber(ARGV[4 + (i - 1) * 2 + 1]),
    active = info[1], price = tonumber(info[2]), max = tonumber(info[3]),
    starts = tonumber(info[4]), ends = tonumber(info[5]), window = tonumber(info[6]) or default_window,
  }
end
for i, it in ipairs(items) do
  if it.active ~= '1' or not it.price then return {'REFUSED', 'PRODUCT_NOT_FOUND', i} end
end
for i, it in ipairs(items) do
  if it.price * it.qty > kMaxTotalCents then return {'INVALID', 'LINE', i} end
end
for i, it in ipairs(items) do
  if (it.starts and now < it.starts) or (it.ends and now >= it.ends) then return {'REFUSED', 'SALE_NOT_ACTIVE', i} end
end
for i, it in ipairs(items) do
  if it.max then
    local bought = tonumber(redis.call('HGET', it.buyers_key, user) or '0')
    if bought + it.qty > it.max then return {'REFUSED', 'PURCHASE_LIMIT_EXCEEDED', i, it.max, bought} end
  end
end
for i, it in ipairs(items) do
  local left = redis.call('GET', it.stock_key) or '0'
  if tonumber(left) < it.qty then return {'REFUSED', 'OUT_OF_STOCK', i, left} end
end
local result = {'TAKEN'}
for _, it in ipairs(items) do
  redis.call('DECRBY', it.stock_key, it.qty)
  redis.call('HINCRBY', it.buyers_key, user, it.qty)
  result[#result + 1] = string.format('%d', it.price)
  result[#result + 1] = it.window and string.format('%d', it.window) or ''
end
redis.call('HSET', KEYS[1], 'result', cjson.encode(result))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
return result
