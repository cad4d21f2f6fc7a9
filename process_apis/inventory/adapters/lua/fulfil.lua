-- Mark a reservation's hold on one SKU fulfilled at `at`: it keeps holding until SAP's goods
-- issue naming the reservation consumes it, or a count newer than `at` supersedes it.
-- ARGV[2] {res, at}. Returns 1 when there was a hold to fulfil.
local req = cjson.decode(ARGV[2])
if redis.call('EXISTS', hold_key(req.res)) == 0 then return 0 end
redis.call('ZADD', BASE .. ':fulfilled', req.at, req.res)
log('fulfil', ARGV[2])
return 1
