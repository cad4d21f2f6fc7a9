-- Helpers shared by every ledger script; the loader puts this file in front of each script.
-- Every key a script touches starts with BASE ("<prefix>:{<sku>}"), so one script call stays in
-- one cluster slot. KEYS[1] is always BASE..":log", which routes the call to that slot.
local BASE = ARGV[1]
local LOG = KEYS[1]

local function pos_key(loc) return BASE .. ':pos:' .. loc end
local function hold_key(res) return BASE .. ':hold:' .. res end
local function num(v) return tonumber(v) or 0 end
-- A position's delta journal: the deltas a later count of an earlier moment must add again.
local function journal_key(loc) return BASE .. ':jnl:' .. loc end

-- Journal members are "<event id>|<field>|<amount>"; the event id may itself hold '|'.
local function parse_member(member)
  local _, field, amount = string.match(member, '^(.*)|([^|]+)|(-?%d+)$')
  return field, tonumber(amount)
end

local function log(op, body)
  redis.call('XADD', LOG, '*', 'op', op, 'body', body)
end

-- Move `qty` units of reservation `res` (channel `ch`) on or off a position's reserved counts.
local function adjust_reserved(loc, ch, qty, pending)
  local pos = pos_key(loc)
  redis.call('HINCRBY', pos, 'reserved', qty)
  redis.call('HINCRBY', pos, 'r:' .. ch, qty)
  if pending then redis.call('HINCRBY', pos, 'pending', qty) end
  redis.call('SADD', BASE .. ':locs', loc)
end

-- The locations a hold has units at (hold hashes keep metadata in fields starting with "_").
local function hold_locations(hold)
  local items = {}
  local flat = redis.call('HGETALL', hold)
  for i = 1, #flat, 2 do
    if string.sub(flat[i], 1, 1) ~= '_' then items[#items + 1] = {flat[i], tonumber(flat[i + 1])} end
  end
  return items
end

-- Release up to `qty` units (nil or JSON null: all) a hold has at `loc`; drops the hold once empty.
local function release_hold(res, loc, qty)
  local hold = hold_key(res)
  local held = num(redis.call('HGET', hold, loc))
  local take = held
  if type(qty) == 'number' and qty < held then take = qty end
  if take <= 0 then return 0 end
  local meta = redis.call('HMGET', hold, '_ch', '_pending', '_refs')
  adjust_reserved(loc, meta[1], -take, meta[2] == '1')
  if take == held then redis.call('HDEL', hold, loc) else redis.call('HINCRBY', hold, loc, -take) end
  if #hold_locations(hold) == 0 then
    redis.call('DEL', hold)
    redis.call('ZREM', BASE .. ':fulfilled', res)
    if meta[3] then
      for ref in string.gmatch(meta[3], '[^\n]+') do redis.call('SREM', BASE .. ':ref:' .. ref, res) end
    end
  end
  return take
end

-- What channel `ch` may sell at a candidate: on_hand − reserved − safety − fences of others.
local function available_for(cand, ch)
  local pos = pos_key(cand.loc)
  local v = redis.call('HMGET', pos, 'on_hand', 'reserved')
  local on_hand, reserved = num(v[1]), num(v[2])
  local safety = cand.ss_units or 0
  if cand.ss_pct and cand.ss_pct > 0 then safety = math.ceil(math.max(on_hand, 0) * cand.ss_pct / 100) end
  local held = 0
  for other, units in pairs(cand.alloc or {}) do
    if other ~= ch then held = held + math.max(0, units - num(redis.call('HGET', pos, 'r:' .. other))) end
  end
  return math.max(0, on_hand - reserved - safety - held)
end
