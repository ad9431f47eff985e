-- A deactivated product no longer sells: its counter goes, and so does the cached copy. Its
-- rules become a tombstone (active 0) holding the version of the removal, so an update that
-- committed before the removal and publishes after it is ignored (product_publish.lua). A
-- product split into stockBuckets runs this once per bucket: the others with the first two keys.
-- KEYS[1] info  KEYS[2] stock  KEYS[3] {p:ID}:cache  KEYS[4] {p:ID}:gen
-- ARGV[1] products.version of the removal
redis.call('DEL', KEYS[1], KEYS[2])
redis.call('HSET', KEYS[1], 'active', '0', 'version', ARGV[1])
if KEYS[4] then
  redis.call('DEL', KEYS[3])
  redis.call('INCR', KEYS[4])
end
return 1
