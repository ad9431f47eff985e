-- Makes a product's sale rules visible to purchases and creates its stock counter. A product
-- split into stockBuckets (Redis Cluster) runs this once per bucket, each with its own keys:
-- bucket 0 ({p:ID}) with four keys (five on Redis Cluster), the others ({p:ID#b}) with two.
-- KEYS[1] info  KEYS[2] stock  KEYS[3] {p:ID}:cache  KEYS[4] {p:ID}:gen
-- KEYS[5] {p:ID}:buckets (Redis Cluster: the number of buckets, which never changes)
-- ARGV[1] price in cents  ARGV[2] max per user ('' = none)  ARGV[3] sale start ms ('' = none)
-- ARGV[4] sale end ms ('' = none)  ARGV[5] initial stock of this counter ('' = keep it as it is)
-- ARGV[6] products.version of these rules  ARGV[7] payment window, s ('' = the service default)
-- ARGV[8] the number of buckets (with KEYS[5])
-- Returns 1 when published, 0 when Redis holds a newer version (a later update, or the
-- product's removal, published first): the older rules are dropped.
local held = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if held > tonumber(ARGV[6]) then
  return 0
end
redis.call('HSET', KEYS[1], 'price', ARGV[1], 'max', ARGV[2], 'starts', ARGV[3], 'ends', ARGV[4], 'active', '1',
  'version', ARGV[6], 'window', ARGV[7] or '')
if ARGV[5] ~= '' then
  -- A new product's counter; NX keeps a counter that purchases already move.
  redis.call('SET', KEYS[2], ARGV[5], 'NX')
end
if KEYS[5] then
  redis.call('SET', KEYS[5], ARGV[8])
end
if KEYS[4] then
  redis.call('INCR', KEYS[4])
  redis.call('DEL', KEYS[3])
end
return 1
