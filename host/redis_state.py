"""The state store in Redis, shared by workers on several machines.

Keys, under ``aha-services:``: ``job:<id>`` (the record, JSON), ``jobs`` (every job
by arrival), ``state:<state>`` and ``of:<integration>`` (the same, filtered),
``received`` (every job by the time it was received), ``open:<integration>`` (its
unfinished jobs by arrival), ``meta:<integration>``,
``lease:<integration>`` (an owner with an expiry), ``counters`` (a hash). Each change
that touches several keys is one Lua script, so no reader sees half of it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from redis import ConnectionPool, Redis
from redis.exceptions import RedisError

from host.jobs import FINISHED_STATES, STATES, Job
from host.state import StateStore, StoreUnavailable, latency_bucket

PREFIX = "aha-services:"
# Jobs read at once when an integration's jobs in one state are looked for.
_PAGE = 100

# KEYS: none. ARGV: prefix, id, integration, state, received_at, record-without-seq
_ADD = """
local p = ARGV[1]
local seq = redis.call('INCR', p .. 'seq')
-- The record is spliced, not re-encoded: cjson would turn an empty list into {}.
local record = string.sub(ARGV[6], 1, -2) .. ', "seq": ' .. seq .. '}'
redis.call('SET', p .. 'job:' .. ARGV[2], record)
redis.call('ZADD', p .. 'jobs', seq, ARGV[2])
redis.call('ZADD', p .. 'state:' .. ARGV[4], seq, ARGV[2])
redis.call('ZADD', p .. 'of:' .. ARGV[3], seq, ARGV[2])
redis.call('ZADD', p .. 'open:' .. ARGV[3], seq, ARGV[2])
redis.call('SADD', p .. 'open-integrations', ARGV[3])
redis.call('ZADD', p .. 'received', ARGV[5], ARGV[2])
redis.call('HINCRBY', p .. 'counters', 'received|' .. ARGV[3] .. '|accepted', 1)
-- Whether it is the integration's only unfinished job.
return {seq, redis.call('ZCARD', p .. 'open:' .. ARGV[3])}
"""

# ARGV: prefix, id, integration, new state, seq, record, open (1/0), meta (or ''),
#       latency bucket (or ''), duration
_SAVE = """
local p = ARGV[1]
local old = redis.call('GET', p .. 'job:' .. ARGV[2])
if not old then return 0 end
local was = cjson.decode(old)['state']
redis.call('SET', p .. 'job:' .. ARGV[2], ARGV[6])
redis.call('ZREM', p .. 'state:' .. was, ARGV[2])
redis.call('ZADD', p .. 'state:' .. ARGV[4], ARGV[5], ARGV[2])
if ARGV[7] == '1' then
  redis.call('ZADD', p .. 'open:' .. ARGV[3], ARGV[5], ARGV[2])
  redis.call('SADD', p .. 'open-integrations', ARGV[3])
else
  redis.call('ZREM', p .. 'open:' .. ARGV[3], ARGV[2])
  if redis.call('ZCARD', p .. 'open:' .. ARGV[3]) == 0 then
    redis.call('SREM', p .. 'open-integrations', ARGV[3])
  end
end
if ARGV[8] ~= '' then
  redis.call('SET', p .. 'meta:' .. ARGV[3], ARGV[8])
  redis.call('HINCRBY', p .. 'counters', 'latency|' .. ARGV[9], 1)
  redis.call('HINCRBYFLOAT', p .. 'counters', 'latency_sum', ARGV[10])
  redis.call('HINCRBY', p .. 'counters', 'latency_count', 1)
end
return 1
"""

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# One batch of a purge, as SQLite's: the next jobs stored after seq ``after``, and of
# those, when not all were received since ``before``, the finished ones received before
# it deleted. A record is decoded only when it goes. Returns the jobs deleted, the last
# seq looked at, and whether the batch was a whole one received partly before ``before``.
# ARGV: prefix, before (epoch seconds), after, batch, finished states...
_PURGE = """
local p = ARGV[1]
local before = tonumber(ARGV[2])
local size = tonumber(ARGV[4])
local batch = redis.call('ZRANGEBYSCORE', p .. 'jobs', '(' .. ARGV[3], '+inf',
  'WITHSCORES', 'LIMIT', 0, size)
if #batch == 0 then return {0, ARGV[3], 0} end
local old, oldest = {}, math.huge
for i = 1, #batch, 2 do
  local received = tonumber(redis.call('ZSCORE', p .. 'received', batch[i]))
  if not received then
    local raw = redis.call('GET', p .. 'job:' .. batch[i])
    received = raw and cjson.decode(raw)['received_at'] or -math.huge
  end
  if received < oldest then oldest = received end
  if received < before then table.insert(old, batch[i]) end
end
local last = batch[#batch]
if oldest >= before then return {0, last, 0} end
local removed = 0
for _, id in ipairs(old) do
  for i = 5, #ARGV do
    if redis.call('ZSCORE', p .. 'state:' .. ARGV[i], id) then
      local raw = redis.call('GET', p .. 'job:' .. id)
      redis.call('DEL', p .. 'job:' .. id)
      redis.call('ZREM', p .. 'received', id)
      redis.call('ZREM', p .. 'jobs', id)
      redis.call('ZREM', p .. 'state:' .. ARGV[i], id)
      if raw then redis.call('ZREM', p .. 'of:' .. cjson.decode(raw)['integration'], id) end
      removed = removed + 1
      break
    end
  end
end
return {removed, last, #batch == 2 * size and 1 or 0}
"""


class RedisStateStore(StateStore):
    def __init__(self, pool: ConnectionPool, prefix: str = PREFIX):
        self.redis = Redis(connection_pool=pool)
        self.prefix = prefix
        self._add = self.redis.register_script(_ADD)
        self._save_script = self.redis.register_script(_SAVE)
        self._renew = self.redis.register_script(_RENEW)
        self._release = self.redis.register_script(_RELEASE)
        self._purge = self.redis.register_script(_PURGE)

    def _key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)

    def _call(self, function: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except RedisError as error:
            reason = type(error).__name__
            raise StoreUnavailable(f"the state store is unavailable: {reason}") from None

    def add_job(self, job: Job) -> bool:
        record = job.to_record()
        del record["seq"]
        seq, open_jobs = self._call(
            self._add,
            args=[
                self.prefix,
                job.id,
                job.integration,
                job.state,
                job.received_at,
                json.dumps(record),
            ],
        )
        job.seq = int(seq)
        return int(open_jobs) == 1

    def count_received(self, counts: Mapping[tuple[str, str], int]) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for (integration, outcome), count in counts.items():
            pipe.hincrby(self._key("counters"), f"received|{integration}|{outcome}", count)
        self._call(pipe.execute)

    def get(self, job_id: str) -> Job | None:
        raw = self._call(self.redis.get, self._key("job", job_id))
        return _load(raw) if raw else None

    def _jobs(self, ids: list[bytes]) -> list[Job]:
        if not ids:
            return []
        keys = [self._key("job", i.decode()) for i in ids]
        return [_load(raw) for raw in self._call(self.redis.mget, keys) if raw]

    def jobs(
        self, state: str | None = None, integration: str | None = None, limit: int = 50
    ) -> list[Job]:
        if state and integration:
            return self._jobs_of_in(integration, state, limit)
        key = (
            self._key("state", state)
            if state
            else self._key("of", integration)
            if integration
            else self._key("jobs")
        )
        return self._jobs(self._call(self.redis.zrevrange, key, 0, limit - 1))

    def _jobs_of_in(self, integration: str, state: str, limit: int) -> list[Job]:
        """The newest jobs of an integration in a state: the smaller of its two sets read
        newest first, a page at a time, until ``limit`` are found."""
        keys = (self._key("of", integration), self._key("state", state))
        key = min(keys, key=lambda name: self._call(self.redis.zcard, name))
        found: dict[str, Job] = {}  # by id: a job added meanwhile moves the pages down
        start = 0
        while len(found) < limit:
            ids = self._call(self.redis.zrevrange, key, start, start + _PAGE - 1)
            for job in self._jobs(ids):
                if job.state == state and job.integration == integration:
                    found.setdefault(job.id, job)
            if len(ids) < _PAGE:
                break
            start += _PAGE
        return list(found.values())[:limit]

    def head(self, integration: str) -> Job | None:
        jobs = self._jobs(self._call(self.redis.zrange, self._key("open", integration), 0, 0))
        return jobs[0] if jobs else None

    def open_integrations(self) -> list[str]:
        members = self._call(self.redis.smembers, self._key("open-integrations"))
        return sorted(m.decode() for m in members)

    def _save(self, job: Job, meta: str = "", bucket: str = "", duration: float = 0.0) -> None:
        is_open = "0" if job.state in FINISHED_STATES else "1"
        self._call(
            self._save_script,
            args=[
                self.prefix,
                job.id,
                job.integration,
                job.state,
                job.seq,
                json.dumps(job.to_record()),
                is_open,
                meta,
                bucket,
                duration,
            ],
        )

    def save(self, job: Job) -> None:
        self._save(job)

    def finish_attempt(self, job: Job, meta_data: dict[str, Any], duration: float) -> None:
        self._save(job, json.dumps(meta_data), latency_bucket(duration), duration)

    def meta_data(self, integration: str) -> dict[str, Any]:
        raw = self._call(self.redis.get, self._key("meta", integration))
        return json.loads(raw) if raw else {}

    def acquire(self, integration: str, owner: str, ttl: float) -> bool:
        key = self._key("lease", integration)
        if self._call(self.redis.set, key, owner, nx=True, px=int(ttl * 1000)):
            return True
        return self.renew(integration, owner, ttl)

    def renew(self, integration: str, owner: str, ttl: float) -> bool:
        key = self._key("lease", integration)
        return bool(self._call(self._renew, keys=[key], args=[owner, int(ttl * 1000)]))

    def release(self, integration: str, owner: str) -> None:
        self._call(self._release, keys=[self._key("lease", integration)], args=[owner])

    def leases(self) -> dict[str, str]:
        found = {}
        pattern = self._key("lease", "*")
        for key in self._call(lambda: list(self.redis.scan_iter(pattern, count=500))):
            owner = self._call(self.redis.get, key)
            if owner:
                found[key.decode()[len(self._key("lease", "")) :]] = owner.decode()
        return found

    def purge(self, before: float) -> int:
        """``purge_batch`` jobs at a time, each batch one script: one script over every old
        job would hold Redis, and every intake and worker with it, for as long as it runs."""
        purged, after, more = 0, "0", True
        while more:
            removed, last, whole = self._call(
                self._purge,
                args=[self.prefix, before, after, self.purge_batch, *FINISHED_STATES],
            )
            purged += int(removed)
            after = last.decode() if isinstance(last, bytes) else str(last)
            more = bool(whole)
        return purged

    def state_counts(self) -> dict[str, int]:
        pipe = self.redis.pipeline(transaction=False)
        for state in STATES:
            pipe.zcard(self._key("state", state))
        counts = self._call(pipe.execute)
        return {state: int(n) for state, n in zip(STATES, counts, strict=True) if n}

    def counters(self) -> dict[str, float]:
        raw = self._call(self.redis.hgetall, self._key("counters"))
        return {name.decode(): float(value) for name, value in raw.items()}

    def ping(self) -> None:
        self._call(self.redis.ping)


def _load(raw: bytes) -> Job:
    return Job.from_record(json.loads(raw))
