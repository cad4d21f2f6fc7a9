-- Every position of one SKU and the id of its log's newest entry, read in one step: no change of
-- the SKU can come between, and each change is applied and logged in one script call, so replaying
-- the log up to that id must rebuild exactly these positions (`inventory-gateway replay --verify`).
-- KEYS[1] the SKU's log (it routes the call to the SKU's slot); ARGV[1] the SKU's key base.
-- Reply: {last log id ('0-0' for none), location, position fields, location, position fields, ...}.
local BASE = ARGV[1]
local newest = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local reply = {newest[1] and newest[1][1] or '0-0'}
for _, loc in ipairs(redis.call('SMEMBERS', BASE .. ':locs')) do
  reply[#reply + 1] = loc
  reply[#reply + 1] = redis.call('HGETALL', BASE .. ':pos:' .. loc)
end
return reply
