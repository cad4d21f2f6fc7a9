-- Change the references a reservation's hold on one SKU answers to (SAP's goods issue naming
-- any of them consumes the hold). ARGV[2] {res, add = [refs], drop = [refs]}. Returns 1 when
-- the reservation holds this SKU. Adding first and dropping after the header changed means a
-- crash in between leaves the hold answering to both references, never to neither.
local req = cjson.decode(ARGV[2])
local hold = hold_key(req.res)
if redis.call('EXISTS', hold) == 0 then return 0 end
local refs, order = {}, {}
for ref in string.gmatch(redis.call('HGET', hold, '_refs') or '', '[^\n]+') do
  refs[ref] = true
  order[#order + 1] = ref
end
for _, ref in ipairs(req.add or {}) do
  redis.call('SADD', BASE .. ':ref:' .. ref, req.res)
  if not refs[ref] then refs[ref] = true; order[#order + 1] = ref end
end
for _, ref in ipairs(req.drop or {}) do
  redis.call('SREM', BASE .. ':ref:' .. ref, req.res)
  refs[ref] = nil
end
local kept = {}
for _, ref in ipairs(order) do if refs[ref] then kept[#kept + 1] = ref end end
redis.call('HSET', hold, '_refs', table.concat(kept, '\n'))
log('rekey', ARGV[2])
return 1
