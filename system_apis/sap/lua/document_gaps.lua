-- The gaps in one year's material-document numbers (see system_apis/sap/document_gaps.py).
-- KEYS[1] hash year -> highest number seen; KEYS[2] zset of open gaps "first-last" scored by first;
-- KEYS[3] hash gap -> reads that found it still open; KEYS[4] zset gap -> when its next read is due (ms).
-- ARGV[1] = 'note':    ARGV[2] year, ARGV[3] number, ARGV[4] last number of a gap it reveals (number - 1 for a
--                      document the gateway has, number for one only known to exist), ARGV[5] due (ms),
--                      ARGV[6] most open gaps kept, ARGV[7] seconds the year's keys live without a change.
--                      Returns how many of the oldest gaps were dropped to stay within ARGV[6].
-- ARGV[1] = 'counted': ARGV[2] first, ARGV[3] last (a range just read), ARGV[4] reads after which a gap
--                      closes, ARGV[5] next due (ms), ARGV[6] seconds to live. Returns the gaps closed.
local highest_key, open_key, reads_key, due_key = KEYS[1], KEYS[2], KEYS[3], KEYS[4]

local function bounds(gap)
  local first, last = string.match(gap, '^(%d+)-(%d+)$')
  return tonumber(first), tonumber(last)
end

local function open(first, last, reads, due)
  if first > last then return end
  local gap = string.format('%d-%d', first, last)
  redis.call('ZADD', open_key, first, gap)
  redis.call('HSET', reads_key, gap, reads)
  redis.call('ZADD', due_key, due, gap)
end

local function close(gap)
  redis.call('ZREM', open_key, gap)
  redis.call('HDEL', reads_key, gap)
  redis.call('ZREM', due_key, gap)
end

local function live(ttl)
  for _, key in ipairs(KEYS) do redis.call('EXPIRE', key, ttl) end
end

if ARGV[1] == 'note' then
  local year, number, last, due = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
  local highest = tonumber(redis.call('HGET', highest_key, year))
  if highest == nil then
    -- A year begun while another is tracked is tracked from its range's start (numbers restart each
    -- year); the first year ever from this number (what came before, the stock sync accounts for).
    local first = number
    if redis.call('HLEN', highest_key) > 0 then first = 0 end
    open(first, last, 0, due)
    redis.call('HSET', highest_key, year, number)
  elseif number > highest then
    open(highest + 1, last, 0, due)
    redis.call('HSET', highest_key, year, number)
  elseif last < number then
    -- A document the gateway now has, at or below the highest: it fills its gap, if it is in one.
    local around = redis.call('ZREVRANGEBYSCORE', open_key, number, '-inf', 'LIMIT', 0, 1)[1]
    if around then
      local first, final = bounds(around)
      if number <= final then
        local reads, next_due = redis.call('HGET', reads_key, around), redis.call('ZSCORE', due_key, around)
        close(around)
        open(first, number - 1, reads, next_due)
        open(number + 1, final, reads, next_due)
      end
    end
  end
  local dropped = redis.call('ZCARD', open_key) - tonumber(ARGV[6])
  if dropped > 0 then
    for _, gap in ipairs(redis.call('ZRANGE', open_key, 0, dropped - 1)) do close(gap) end
  else
    dropped = 0
  end
  live(tonumber(ARGV[7]))
  return dropped
end

if ARGV[1] == 'counted' then
  local first, last, max_reads, due = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
  local closed = {}
  for _, gap in ipairs(redis.call('ZRANGEBYSCORE', open_key, first, last)) do
    local _, final = bounds(gap)
    if final <= last then
      if redis.call('HINCRBY', reads_key, gap, 1) >= max_reads then
        close(gap)
        table.insert(closed, gap)
      else
        redis.call('ZADD', due_key, due, gap)
      end
    end
  end
  live(tonumber(ARGV[6]))
  return closed
end

return redis.error_reply('unknown operation ' .. tostring(ARGV[1]))
