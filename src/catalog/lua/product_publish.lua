-- Makes a product's sale rules visible to purchases and creates its stock counter.
-- KEYS[1] {p:ID}:info  KEYS[2] {p:ID}:stock  KEYS[3] {p:ID}:cache  KEYS[4] {p:ID}:gen
-- ARGV[1] price in cents  ARGV[2] max per user ('' = none)  ARGV[3] sale start ms ('' = none)
-- ARGV[4] sale end ms ('' = none)  ARGV[5] initial stock ('' = keep the counter as it is)
redis.call('HSET', KEYS[1], 'price', ARGV[1], 'max', ARGV[2], 'starts', ARGV[3], 'ends', ARGV[4], 'active', '1')
if ARGV[5] ~= '' then
  -- A new product's counter; NX keeps a counter that purchases already move.
  redis.call('SET', KEYS[2], ARGV[5], 'NX')
end
redis.call('INCR', KEYS[4])
redis.call('DEL', KEYS[3])
return 1
