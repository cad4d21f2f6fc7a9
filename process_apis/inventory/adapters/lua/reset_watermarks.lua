-- An operator's reset of a position's watermarks (a count dated in the future froze it: every later
-- event fell behind its watermark). ARGV[2] {loc, fields, at, cut}, `at` the reset's time and `cut`
-- the latest occurred_at ingest accepts at that time (both from the gateway's clock, in ms):
-- each field's watermark is cleared, so the next count of it applies and every delta applies;
-- its journal entries dated after `cut` (deltas accepted from the future) are dropped, so no
-- later count adds them again; a horizon past `at` (such a delta trimmed from the journal) comes
-- back to `at`, so counts from the reset on apply. Quantities stay as they are until the next count.
-- Logged with its request when it changed anything, so a replay resets at the same point.
-- Returns {watermarks = {field = {at?, id?}} as they were, horizon = [before, after], dropped = n}
-- (times as the stored text of their ms).
local req = cjson.decode(ARGV[2])
local pos = pos_key(req.loc)
local jnl = journal_key(req.loc)
local changed = false

local wanted, before = {}, {}
for _, field in ipairs(req.fields) do
  wanted[field] = true
  local v = redis.call('HMGET', pos, 'wm:' .. field, 'wmid:' .. field)
  before[field] = {at = v[1] or nil, id = v[2] or nil}  -- as stored: cjson would round 15-digit numbers
  if v[1] then
    redis.call('HDEL', pos, 'wm:' .. field, 'wmid:' .. field)
    changed = true
  end
end

local dropped = 0
for _, member in ipairs(redis.call('ZRANGEBYSCORE', jnl, '(' .. req.cut, '+inf')) do
  if wanted[parse_member(member)] then
    redis.call('ZREM', jnl, member)
    dropped = dropped + 1
  end
end

local horizon = redis.call('HGET', pos, 'horizon') or '0'
local horizon_after = horizon
if num(horizon) > req.at then
  redis.call('HSET', pos, 'horizon', req.at)
  horizon_after = redis.call('HGET', pos, 'horizon')
  changed = true
end

if changed or dropped > 0 then log('reset_watermarks', ARGV[2]) end
return cjson.encode({watermarks = before, horizon = {horizon, horizon_after}, dropped = dropped})
