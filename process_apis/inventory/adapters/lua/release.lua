-- Release a reservation's hold on one SKU: all of it, or [[loc, qty]] items of it.
-- ARGV[2] {res, items?, void?}. Returns the [[loc, qty]] actually released (idempotent: a second
-- release of the same units finds nothing left to release). `void` (seconds) fences the SKU
-- against the reservation for that long: its request was abandoned past its deadline, and should
-- it wake up, hold.lua refuses it rather than hold for a reservation that no longer exists.
local req = cjson.decode(ARGV[2])
if req.void then redis.call('SET', BASE .. ':void:' .. req.res, '1', 'EX', req.void) end
local items = req.items
if not items then items = hold_locations(hold_key(req.res)) end
local released = {}
for _, item in ipairs(items) do
  local take = release_hold(req.res, item[1], item[2])
  if take > 0 then released[#released + 1] = {item[1], take} end
end
if #released > 0 then log('release', cjson.encode({res = req.res, items = released})) end
return cjson.encode(released)
