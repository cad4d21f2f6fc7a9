-- Mark a reservation's hold on one SKU fulfilled: it keeps holding until SAP's goods issue
-- naming one of `refs` consumes it, or a count newer than `at` supersedes it.
-- ARGV[2] {res, refs, at}. Returns 1 when there was a hold to fulfil.
local req = cjson.decode(ARGV[2])
local hold = hold_key(req.res)
if redis.call('EXISTS', hold) == 0 then return 0 end
redis.call('ZADD', BASE .. ':fulfilled', req.at, req.res)
for _, ref in ipairs(req.refs) do redis.call('SADD', BASE .. ':ref:' .. ref, req.res) end
redis.call('HSET', hold, '_refs', table.concat(req.refs, '\n'))
log('fulfil', ARGV[2])
return 1
