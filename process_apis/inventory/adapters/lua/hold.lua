-- Hold stock for one reservation on one SKU: check, source and reserve every line atomically.
-- ARGV[2] {res, ch, pending, refs, cap?, lines = [{qty, partial, strategy, fence, cands = [{loc,
-- ss_units, ss_pct, alloc}]}]} or, when replaying the log, {res, ch, pending, refs, replay =
-- [[line, loc, qty]]}. `refs` (the reservation id and external reference) let SAP's goods issue
-- naming either of them consume the hold, whenever it arrives. `cap` {ref, share}: the holds of
-- the channel's reservations answering to `ref` (one cart or order) may take at most `share` of
-- what the channel could sell at a line's candidates were they not held (at least one unit, so a
-- last unit stays sellable); a line over it fails the SKU, reported in `capped` (a line short of
-- stock anyway, unless partial, is reported as short instead).
-- All-or-nothing per SKU: a short line that is not partial leaves no trace. A shortfall is
-- "contended" when other reservations' pending (not yet committed) holds could still roll back.
-- "void" when the reservation was abandoned (its request past its deadline): nothing is held.
local req = cjson.decode(ARGV[2])
local allocs, shortfalls, capped, failed, contended = {}, {}, {}, false, false

-- Whether line `i` would take the cart or order of `req.cap` past its share (then recorded).
local function over_cap(i, line, taken)
  local held, sellable = 0, 0
  local holders = redis.call('SMEMBERS', BASE .. ':ref:' .. req.cap.ref)
  for _, cand in ipairs(line.cands) do
    held = held + (taken[cand.loc] or 0)  -- this request's earlier lines: the same cart's
    sellable = sellable + math.max(0, available_for(cand, req.ch) - (taken[cand.loc] or 0))
    for _, res in ipairs(holders) do
      local hold = hold_key(res)
      if res ~= req.res and redis.call('HGET', hold, '_ch') == req.ch then
        held = held + num(redis.call('HGET', hold, cand.loc))
      end
    end
  end
  sellable = math.max(0, sellable - (line.fence or 0))
  -- A short all-or-nothing line fails as a shortage: the truer answer, and nothing is held either way.
  if line.qty > sellable and not line.partial then return false end
  -- The epsilon keeps 0.29 * 100 at 29: a float product may fall just short of the whole number.
  local limit = math.max(1, math.floor(req.cap.share * (sellable + held) + 1e-9))
  if held + line.qty <= limit then return false end
  capped[#capped + 1] = {line = i, requested = line.qty, held = held, limit = limit}
  return true
end

local function source(i, line, taken)
  if req.cap and over_cap(i, line, taken) then
    failed = true
    return
  end
  local cands, total = {}, 0
  for order, cand in ipairs(line.cands) do
    local available = math.max(0, available_for(cand, req.ch) - (taken[cand.loc] or 0))
    cands[#cands + 1] = {loc = cand.loc, available = available, order = order}
    total = total + available
  end
  if line.strategy == 'most_available' then
    table.sort(cands, function(a, b)
      if a.available ~= b.available then return a.available > b.available end
      return a.order < b.order
    end)
  end
  local remaining = math.min(line.qty, math.max(0, total - (line.fence or 0)))
  local got = 0
  for _, c in ipairs(cands) do
    if remaining == 0 then break end
    local take = math.min(c.available, remaining)
    if take > 0 then
      allocs[#allocs + 1] = {i, c.loc, take}
      taken[c.loc] = (taken[c.loc] or 0) + take
      remaining, got = remaining - take, got + take
    end
  end
  if got < line.qty then
    shortfalls[#shortfalls + 1] = {line = i, requested = line.qty, available = got}
    if not line.partial then failed = true end
    for _, cand in ipairs(line.cands) do
      if num(redis.call('HGET', pos_key(cand.loc), 'pending')) > 0 then contended = true end
    end
  end
end

if req.replay then
  allocs = req.replay
elseif redis.call('EXISTS', BASE .. ':void:' .. req.res) == 1 then
  return cjson.encode({ok = false, short = {}, void = true})  -- abandoned past its deadline (release.lua)
else
  local taken = {}
  for i, line in ipairs(req.lines) do source(i, line, taken) end
  if failed then return cjson.encode({ok = false, short = shortfalls, capped = capped, contended = contended}) end
end

if #allocs > 0 then
  local hold = hold_key(req.res)
  redis.call('HSET', hold, '_ch', req.ch)
  if req.pending then redis.call('HSET', hold, '_pending', '1') end
  if req.refs then
    for _, ref in ipairs(req.refs) do redis.call('SADD', BASE .. ':ref:' .. ref, req.res) end
    redis.call('HSET', hold, '_refs', table.concat(req.refs, '\n'))
  end
  for _, a in ipairs(allocs) do
    redis.call('HINCRBY', hold, a[2], a[3])
    adjust_reserved(a[2], req.ch, a[3], req.pending)
  end
  log('hold', cjson.encode({res = req.res, ch = req.ch, pending = req.pending, refs = req.refs, replay = allocs}))
end
return cjson.encode({ok = true, allocs = allocs, short = shortfalls})
