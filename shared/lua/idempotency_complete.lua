-- Acts only while the in-flight marker is still ours (ARGV[1]), so a request that outlived
-- its lock can neither overwrite nor release a key a later request has taken over.
-- KEYS[1] idempotency key; ARGV[2] stored response; ARGV[3] TTL seconds.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
end
return false
