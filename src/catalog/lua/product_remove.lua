-- A deactivated product no longer sells: its rules and counter go, and so does the cached copy.
-- KEYS[1] {p:ID}:info  KEYS[2] {p:ID}:stock  KEYS[3] {p:ID}:cache  KEYS[4] {p:ID}:gen
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
redis.call('INCR', KEYS[4])
return 1
