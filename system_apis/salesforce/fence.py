"""The publisher fence and the As_Of fence: per availability key, the as_of last claimed and last
written to Salesforce, so an outcome older than one already sent is skipped (counted
`superseded`), whoever sends it late.

The publisher sends one batch at a time under a lease, but a publisher that lost its lease in the
middle of a slow send (or paused past it) may still deliver an old batch after its successor's
newer one; these fences make the order hold here, where the write happens. Every batch carries
the publisher lease's fencing token, which grows with every take of the lease (0 for a caller
without one): a batch below the highest token seen (`sfapi:{publisher}:fence`) is refused whole,
and per SKU the hash keeps the highest token that claimed it, so a batch that passed that check
just before its successor took over is still skipped key by key. A higher token starts the SKU's
as_of marks afresh: as_of is the sending publisher's clock, and a successor's clock may be behind.

Per key two marks live in one hash per SKU (`sfapi:{sku}:as-of`, hash-tagged: one cluster slot):
- `claimed`, advanced *before* the Salesforce write, so that a concurrent older batch that checks
  after it is skipped instead of overtaking the newer write;
- `written`, advanced *after* Salesforce took the record.
An outcome is written when its as_of is newer than `written` and not older than `claimed`:
an equal as_of passes the claim on purpose, so a batch repeated after a crash (or a Salesforce
outage) between claim and write is written again rather than skipped; nothing newer is ever lost,
and writing the same as_of twice is harmless (an upsert of the same values).
What the fence cannot order is an older write already in flight when a newer one is claimed; the
publisher's lease check before every send keeps that to a publisher cut off mid-call.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from redis.cluster import RedisCluster

#: How long a SKU's marks are kept after its last write: far longer than any batch can be late.
RETENTION_SECONDS = 14 * 86400
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

#: The highest publisher fence seen, and the field of a SKU's hash holding the highest that claimed it.
PUBLISHER_FENCE_KEY = "sfapi:{publisher}:fence"
#: The problem type slug of a batch refused for its stale fence.
STALE_FENCE = "stale-fence"

# KEYS[1] the highest fence seen; ARGV[1] the batch's. 1 = admitted (and now the highest), 0 = stale.
_ADMIT = """
if tonumber(ARGV[1]) < tonumber(redis.call('GET', KEYS[1]) or '0') then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
return 1
"""

# KEYS[1] the SKU's hash; ARGV[1] retention; ARGV[2] the batch's fence; then (key, as_of µs) pairs.
# 1 = write it, 0 = superseded.
_CLAIM = """
local answers = {}
local fence = tonumber(ARGV[2])
local seen = tonumber(redis.call('HGET', KEYS[1], '#fence') or '0')
if fence < seen then
  for i = 3, #ARGV, 2 do answers[#answers + 1] = 0 end
  return answers
end
if fence > seen then
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], '#fence', ARGV[2])
end
for i = 3, #ARGV, 2 do
  local key, as_of = ARGV[i], tonumber(ARGV[i + 1])
  local written = tonumber(redis.call('HGET', KEYS[1], key .. '#written') or '-1')
  local claimed = tonumber(redis.call('HGET', KEYS[1], key .. '#claimed') or '-1')
  if as_of <= written or as_of < claimed then
    answers[#answers + 1] = 0
  else
    if as_of > claimed then redis.call('HSET', KEYS[1], key .. '#claimed', ARGV[i + 1]) end
    answers[#answers + 1] = 1
  end
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return answers
"""

# KEYS[1] the SKU's hash; ARGV[1] retention; ARGV[2] the batch's fence; then (key, as_of µs) pairs
# Salesforce took.
_CONFIRM = """
if tonumber(ARGV[2]) < tonumber(redis.call('HGET', KEYS[1], '#fence') or '0') then return 0 end
for i = 3, #ARGV, 2 do
  local key, as_of = ARGV[i], tonumber(ARGV[i + 1])
  if as_of > tonumber(redis.call('HGET', KEYS[1], key .. '#written') or '-1') then
    redis.call('HSET', KEYS[1], key .. '#written', ARGV[i + 1])
  end
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1
"""


def _micros(as_of: datetime) -> int:
    """as_of in whole microseconds since the epoch: exact in Lua's doubles (< 2^53) and ordered."""
    return (as_of - _EPOCH) // _MICROSECOND


class AsOfFence:
    def __init__(self, redis, *, retention_seconds: int = RETENTION_SECONDS) -> None:
        self.redis, self.retention_seconds = redis, retention_seconds
        self._admit = redis.register_script(_ADMIT)
        self._claim, self._confirm = redis.register_script(_CLAIM), redis.register_script(_CONFIRM)

    def admit(self, fence: int) -> bool:
        """Whether a batch under publisher fence `fence` may be written: none higher was seen."""
        return bool(self._admit(keys=[PUBLISHER_FENCE_KEY], args=[fence]))

    def claim(self, marks: list[tuple[str, str, datetime]], fence: int = 0) -> list[bool]:
        """For each (sku, key, as_of): whether to write it (True) or skip it as superseded."""
        answers = self._run(self._claim, marks, fence)
        return [bool(answer) for answer in answers]

    def confirm(self, marks: list[tuple[str, str, datetime]], fence: int = 0) -> None:
        """Salesforce took these (sku, key, as_of): later outcomes must be newer."""
        self._run(self._confirm, marks, fence)

    def _run(self, script, marks: list[tuple[str, str, datetime]], fence: int) -> list:
        """One script call per SKU (its keys share one slot); the per-mark answers, in order."""
        by_sku: dict[str, list[int]] = defaultdict(list)
        for index, (sku, _, _) in enumerate(marks):
            by_sku[sku].append(index)
        calls = [
            (
                f"sfapi:{{{sku}}}:as-of",
                [
                    self.retention_seconds,
                    fence,
                    *(value for index in indexes for value in (marks[index][1], _micros(marks[index][2]))),
                ],
            )
            for sku, indexes in by_sku.items()
        ]
        if isinstance(self.redis, RedisCluster):  # a cluster pipeline refuses scripts: one call each
            replies = [script(keys=[key], args=args) for key, args in calls]
        else:
            pipe = self.redis.pipeline(transaction=False)
            for key, args in calls:
                script(keys=[key], args=args, client=pipe)
            replies = pipe.execute()
        answers: list = [None] * len(marks)
        for indexes, reply in zip(by_sku.values(), replies):
            for position, index in enumerate(indexes):
                answers[index] = reply[position] if isinstance(reply, list) else reply
        return answers
