-- Dead-letter bookkeeping in the {dlq} slot: an entry hash plus lexically ordered indexes of
-- open entries (all, and per reason) and of closed ones. Ids sort by time.
-- KEYS: entry, open, open-by-reason, closed. ARGV[1] 'add' | 'close'; ARGV[2] id;
-- ARGV[3..] field, value pairs to set on the entry. Returns 0 when closing a missing or
-- already closed entry.
local op, id = ARGV[1], ARGV[2]
if op == 'close' and redis.call('ZSCORE', KEYS[2], id) == false then return 0 end
if #ARGV > 2 then redis.call('HSET', KEYS[1], unpack(ARGV, 3)) end
if op == 'close' then
  redis.call('ZREM', KEYS[2], id)
  redis.call('ZREM', KEYS[3], id)
  redis.call('ZADD', KEYS[4], 0, id)
else
  redis.call('ZADD', KEYS[2], 0, id)
  redis.call('ZADD', KEYS[3], 0, id)
end
return 1
