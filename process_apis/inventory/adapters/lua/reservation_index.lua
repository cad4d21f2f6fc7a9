-- Add one reservation's member to some indexes and remove it from others, in one step.
-- Every KEYS[i] is an index key in the {reservations} slot. ARGV[1] the member; ARGV[2] one
-- character per key, '+' add or '-' remove; ARGV[2 + i] seconds an added KEYS[i] is kept after
-- its last addition (0: kept until emptied).
local member, ops = ARGV[1], ARGV[2]
for i, key in ipairs(KEYS) do
  if string.sub(ops, i, i) == '+' then
    redis.call('ZADD', key, 0, member)
    local keep = tonumber(ARGV[2 + i])
    if keep > 0 then redis.call('EXPIRE', key, keep) end
  else
    redis.call('ZREM', key, member)
  end
end
return #KEYS
