-- A lease one holder at a time keeps by renewing it, with a fencing token: every take of the
-- lease draws the next number of a counter that never goes back, so whoever is told the holder's
-- token can refuse anything sent under an older one (a holder that paused past its lease).
-- KEYS[1] the lease (its value: the holder), KEYS[2] its token counter (same slot: one hash tag).
-- ARGV[1] 'take' | 'extend' | 'release', ARGV[2] the holder, ARGV[3] the lease in milliseconds.
-- take: the new token, or 0 when another holds it; extend, release: 1 when it was still held, else 0.
local op, holder = ARGV[1], ARGV[2]
if op == 'take' then
  if redis.call('SET', KEYS[1], holder, 'NX', 'PX', ARGV[3]) then
    return redis.call('INCR', KEYS[2])
  end
  return 0
end
if redis.call('GET', KEYS[1]) ~= holder then return 0 end
if op == 'extend' then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
else
  redis.call('DEL', KEYS[1])
end
return 1
