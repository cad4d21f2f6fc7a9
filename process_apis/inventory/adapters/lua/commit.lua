-- Make a reservation's pending hold on one SKU firm, once every SKU of it is held.
-- ARGV[2] {res}. A firm hold no longer makes a competitor's shortfall "contended".
local req = cjson.decode(ARGV[2])
local hold = hold_key(req.res)
if redis.call('HGET', hold, '_pending') ~= '1' then return 0 end
for _, item in ipairs(hold_locations(hold)) do
  redis.call('HINCRBY', pos_key(item[1]), 'pending', -item[2])
end
redis.call('HDEL', hold, '_pending')
log('commit', ARGV[2])
return 1
