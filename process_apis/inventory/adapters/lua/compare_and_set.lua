-- Set fields of a hash only while its guard field holds one of the accepted values.
-- KEYS[1] hash; ARGV[1] guard field; ARGV[2] accepted values, newline-separated (an empty line
-- accepts a missing field); ARGV[3..] field, value pairs. Returns {1|0, value found}.
local current = redis.call('HGET', KEYS[1], ARGV[1]) or ''
for accepted in string.gmatch(ARGV[2] .. '\n', '([^\n]*)\n') do
  if accepted == current then
    if #ARGV > 2 then redis.call('HSET', KEYS[1], unpack(ARGV, 3)) end
    return {1, current}
  end
end
return {0, current}
