-- Apply a batch of one SKU's canonical events: dedup, watermark rule, journal, log; atomically.
-- ARGV[2] config {ttl, jmax, jms}; ARGV[3] events [{id, at, snap, loc, counts | changes, ref, e}].
-- Returns per event {o = applied|duplicate|stale|too_old, neg = [locations that went negative]}.
local cfg = cjson.decode(ARGV[2])
local events = cjson.decode(ARGV[3])

-- Shipments kept per position for their ETAs; the oldest go first (long since arrived, as a rule).
local MAX_SHIPMENTS = 50

local function watermark(pos, field)
  local v = redis.call('HMGET', pos, 'wm:' .. field, 'wmid:' .. field)
  return tonumber(v[1]) or -1, v[2] or ''
end

-- Keep the journal bounded; what falls off moves the horizon, before which no snapshot can land.
local function trim_journal(pos, jnl)
  local newest = redis.call('ZRANGE', jnl, -1, -1, 'WITHSCORES')
  if #newest == 0 then return end
  local cut = -1
  local old = redis.call('ZRANGEBYSCORE', jnl, '-inf', '(' .. (tonumber(newest[2]) - cfg.jms), 'WITHSCORES')
  if #old > 0 then cut = tonumber(old[#old]) end
  local excess = redis.call('ZCARD', jnl) - cfg.jmax
  if excess > 0 then
    local over = redis.call('ZRANGE', jnl, excess - 1, excess - 1, 'WITHSCORES')
    if tonumber(over[2]) > cut then cut = tonumber(over[2]) end
  end
  if cut >= 0 then
    redis.call('ZREMRANGEBYSCORE', jnl, '-inf', cut)
    if cut > num(redis.call('HGET', pos, 'horizon')) then redis.call('HSET', pos, 'horizon', cut) end
  end
end

-- A reservation stops holding what SAP's goods issue naming it (id or external ref) took away.
local function consume_fulfilled(ref, loc, qty)
  for _, res in ipairs(redis.call('SMEMBERS', BASE .. ':ref:' .. ref)) do
    if qty <= 0 then return end
    qty = qty - release_hold(res, loc, qty)
  end
end

-- ...or once a count newer than the fulfilment already reflects the goods leaving.
local function supersede_fulfilled(loc, at)
  for _, res in ipairs(redis.call('ZRANGEBYSCORE', BASE .. ':fulfilled', '-inf', '(' .. at)) do
    release_hold(res, loc, nil)
  end
end

-- A shipment sent towards `loc`, kept for its ETA. Which shipments are still on the way is not
-- tracked here: readers cover the position's in_transit (watermark rule and all) with the newest
-- shipments, so a receipt, a reversal or a count of in_transit needs no bookkeeping.
local function record_shipment(ev, loc)
  local incoming = BASE .. ':inc:' .. loc
  redis.call('HSET', incoming, ev.id, cjson.encode({q = ev.ship.q, s = ev.at, f = ev.ship.f, r = ev.ship.r, e = ev.ship.e}))
  if redis.call('HLEN', incoming) > MAX_SHIPMENTS then
    local flat, oldest, oldest_at = redis.call('HGETALL', incoming), nil, nil
    for i = 1, #flat, 2 do
      local at = cjson.decode(flat[i + 1]).s
      if oldest_at == nil or at < oldest_at then oldest, oldest_at = flat[i], at end
    end
    redis.call('HDEL', incoming, oldest)
  end
end

local function apply_delta(ev, went_negative)
  local applied = false
  for _, change in ipairs(ev.changes) do
    local loc, field, amount = change[1], change[2], change[3]
    local pos = pos_key(loc)
    local wm = watermark(pos, field)
    if ev.at > wm then
      local before = num(redis.call('HGET', pos, 'on_hand'))
      local after = redis.call('HINCRBY', pos, field, amount)
      if field == 'on_hand' and after < 0 and before >= 0 then went_negative[#went_negative + 1] = loc end
      local jnl = journal_key(loc)
      redis.call('ZADD', jnl, ev.at, ev.id .. '|' .. field .. '|' .. amount)
      trim_journal(pos, jnl)
      redis.call('SADD', BASE .. ':locs', loc)
      applied = true
    end
  end
  if applied and ev.ref then
    local first = ev.changes[1]
    consume_fulfilled(ev.ref, first[1], -first[3])
  end
  -- Kept even when a count already covers its in_transit leg: readers cover in_transit with the
  -- newest shipments, so the set of shipments, like the sum, is the same in any arrival order.
  if ev.ship then record_shipment(ev, ev.ship.t) end
  return applied
end

local function apply_snapshot(ev, went_negative)
  local pos = pos_key(ev.loc)
  local jnl = journal_key(ev.loc)
  local newer = {}
  for field, _ in pairs(ev.counts) do
    local wm, wmid = watermark(pos, field)
    if ev.at > wm or (ev.at == wm and ev.id > wmid) then newer[#newer + 1] = field end
  end
  if #newer == 0 then return 'stale' end
  if ev.at < num(redis.call('HGET', pos, 'horizon')) then return 'too_old' end
  local later = {}
  for _, member in ipairs(redis.call('ZRANGEBYSCORE', jnl, '(' .. ev.at, '+inf')) do
    local field, amount = parse_member(member)
    later[field] = (later[field] or 0) + amount
  end
  local before = num(redis.call('HGET', pos, 'on_hand'))
  for _, field in ipairs(newer) do
    redis.call('HSET', pos, field, ev.counts[field] + (later[field] or 0), 'wm:' .. field, ev.at, 'wmid:' .. field, ev.id)
  end
  local after = num(redis.call('HGET', pos, 'on_hand'))
  if after < 0 and before >= 0 then went_negative[#went_negative + 1] = ev.loc end
  -- Entries every one of whose fields is now under a watermark can never be needed again.
  local covered = redis.call('ZRANGEBYSCORE', jnl, '-inf', ev.at, 'WITHSCORES')
  for j = 1, #covered, 2 do
    local field = parse_member(covered[j])
    if watermark(pos, field) >= tonumber(covered[j + 1]) then redis.call('ZREM', jnl, covered[j]) end
  end
  redis.call('SADD', BASE .. ':locs', ev.loc)
  supersede_fulfilled(ev.loc, ev.at)
  return 'applied'
end

local results = {}
for i, ev in ipairs(events) do
  local seen = BASE .. ':seen:' .. ev.id
  local outcome
  local went_negative = {}
  if redis.call('EXISTS', seen) == 1 then
    outcome = 'duplicate'
  elseif ev.snap then
    outcome = apply_snapshot(ev, went_negative)
  else
    outcome = apply_delta(ev, went_negative) and 'applied' or 'stale'
  end
  if outcome == 'applied' or outcome == 'stale' then
    redis.call('SET', seen, 1, 'EX', cfg.ttl)
    log('event', ev.e)
  end
  results[i] = {o = outcome, neg = went_negative}
end
return cjson.encode(results)
