-- After a write commits: bump the generation (loaders in flight then do not fill) and drop
-- the cached copy. KEYS[1] {p:ID}:cache  KEYS[2] {p:ID}:gen
redis.call('INCR', KEYS[2])
redis.call('DEL', KEYS[1])
return 1
