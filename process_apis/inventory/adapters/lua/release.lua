-- Release a reservation's hold on one SKU: all of it, or [[loc, qty]] items of it.
-- ARGV[2] {res, items?}. Returns the [[loc, qty]] actually released (idempotent: a second
-- release of the same units finds nothing left to release).
local req = cjson.decode(ARGV[2])
local items = req.items
if not items then items = hold_locations(hold_key(req.res)) end
local released = {}
for _, item in ipairs(items) do
  local take = release_hold(req.res, item[1], item[2])
  if take > 0 then released[#released + 1] = {item[1], take} end
end
if #released > 0 then log('release', cjson.encode({res = req.res, items = released})) end
return cjson.encode(released)
