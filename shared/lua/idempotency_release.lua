-- Acts only while the in-flight marker is still ours (ARGV[1]), so a request that outlived
-- its lock can neither overwrite nor release a key a later request has taken over.
-- KEYS[1] idempotency key.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
