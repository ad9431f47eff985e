-- Fills the product cache unless the product changed since the caller read the generation
-- (a write bumps it after commit), so a slow loader never caches a stale copy.
-- KEYS[1] {p:ID}:cache  KEYS[2] {p:ID}:gen
-- ARGV[1] generation seen before the database read ('' when none)  ARGV[2] value  ARGV[3] ttl s
local gen = redis.call('GET', KEYS[2]) or ''
if gen ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return 1
