/**
 * The Lua script behind the Redis-backed SMSP limiter (redis-limiter.ts), run on Redis's own clock
 * so that every decision about the shared limits is atomic across processes and machines.
 *
 * State, per key prefix:
 *   leases      zset  lease → expiry          every request in flight holds one (an `owner:n` lease)
 *   starts      zset  start → start time      every request started, for the sliding rate window
 *   pause       string                        until when everyone waits after a busy answer
 *   busy        counter                       busy answers in a row (the pause doubles with each)
 *   held        hash  owner → leases held
 *   demand      zset  owner → expiry          the processes with requests waiting
 *   last-grant  hash  owner → time            when each waiting process was last given a start
 *   permits     zset  lease → time            leases whose holder may start one more request on
 *                                             them without asking first (see below)
 *   urgent      zset  owner → expiry          the waiting processes with an interactive batch's
 *                                             request among them (priority.ts): while any waits,
 *                                             only they are given slots
 *
 * A permit lets a process hand a lease straight from a finished request to its next waiting one
 * and tell Redis afterwards, so that no Redis round trip sits between an answer and the next
 * request (on a busy machine that round trip cost a tenth of the throughput). Every limit stays
 * exact: a permit counts as a request started now in the rate window until the start it allowed is
 * reported (or the permit is handed back), a permit belongs to a lease already counted in flight, a
 * process only gets permits while nothing is paused, the rate window has room to spare for every
 * lease to use one, and it would not have to give the lease up to a process waiting longer; an
 * answer tells the process to stop using its permits as soon as any of that changes.
 */

export const LIMIT_KEY_NAMES = ['leases', 'starts', 'pause', 'busy', 'held', 'demand', 'last-grant', 'permits', 'urgent'] as const;

/** The keys a limiter with this prefix keeps in Redis, in the order the script takes them. */
export function limitKeys(prefix: string): string[] {
  return LIMIT_KEY_NAMES.map((name) => `${prefix}:smsp-limit:${name}`);
}

/** The script's hint to ask again soon: first in line for the next slot to come free, or holding none. */
export const POLL_SOON = -1;

// ARGV: owner, maxInFlight, maxRate, windowMs, leaseTtlMs, baseBackoffMs, maxBackoffMs, demandTtlMs,
//       urgent (1: an interactive request waits in this process),
//       S, then S starts (`lease#n`)                    requests started on a permit since the last call
//       T, then T starts (`lease` or `lease#n`)        requests that went out later than granted: counted from now
//       R, then R pairs (lease, busy 1/0)              finished requests whose lease is given back
//       P, then P leases                                permits handed back unused
//       C, then C leases                                leases held without a permit that could use one
//       wanted, first lease number                      new leases wanted: owner:first, owner:first+1...
// Returns {granted, hint, stop, permitted...}: the first `granted` new leases are granted; when fewer
// than wanted, hint is the milliseconds to wait (rate window or busy pause), POLL_SOON (a slot
// should come free for this owner), or -2 (its own finished requests will bring it more); stop = 1
// tells the owner to hand back and stop using its permits; then the leases (held ones, then new
// ones) given a permit by this call.
export const TRADE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local owner = ARGV[1]
local maxInFlight, maxRate, windowMs, leaseTtl = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local baseBackoff, maxBackoff, demandTtl = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local LEASES, STARTS, PAUSE, BUSY, HELD, DEMAND, LAST_GRANT, PERMITS, URGENT = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[9]
local urgent = tonumber(ARGV[9]) == 1

local function dropHeld(who)
  if redis.call('HINCRBY', HELD, who, -1) <= 0 then redis.call('HDEL', HELD, who) end
end
local at = 10
local function list()
  local n = tonumber(ARGV[at])
  local items = {}
  for i = 1, n do items[i] = ARGV[at + i] end
  at = at + n + 1
  return items
end

-- Requests started on a permit, first (a lease may have been started on and then given back since
-- the last call): the permit becomes the start it allowed, and the lease lives on.
local restarted = list()
for _, start in ipairs(restarted) do
  local lease = string.match(start, '^(.*)#')
  redis.call('ZREM', PERMITS, lease)
  redis.call('ZADD', STARTS, now, start)
  -- Expired meanwhile (its holder stalled past the lease time): counted in flight again.
  if not redis.call('ZSCORE', LEASES, lease) then redis.call('HINCRBY', HELD, owner, 1) end
  redis.call('ZADD', LEASES, now + leaseTtl, lease)
end
-- Requests that left later than they were granted (a connection was being set up): the provider
-- counts arrivals, so their starts count from now, never earlier than they left.
local stamps = list()
for _, start in ipairs(stamps) do redis.call('ZADD', STARTS, now, start) end
if #stamps > 0 then redis.call('PEXPIRE', STARTS, windowMs * 2) end
-- Finished requests, in the order they finished: a busy answer pauses everyone, doubling while
-- busy answers follow one another; any other answer ends the run. A lease given back takes its
-- unused permit with it.
local finished = tonumber(ARGV[at])
for i = 1, finished do
  local lease, busy = ARGV[at + 2 * i - 1], ARGV[at + 2 * i]
  if redis.call('ZREM', LEASES, lease) == 1 then dropHeld(owner) end
  redis.call('ZREM', PERMITS, lease)
  if busy == '1' then
    local n = redis.call('INCR', BUSY)
    redis.call('PEXPIRE', BUSY, 60000)
    local pause = math.min(maxBackoff, baseBackoff * 2 ^ (n - 1))
    local current = tonumber(redis.call('GET', PAUSE) or '0')
    if now + pause > current then redis.call('SET', PAUSE, now + pause, 'PX', pause + 1000) end
  else
    redis.call('DEL', BUSY)
  end
end
at = at + 2 * finished + 1
for _, lease in ipairs(list()) do redis.call('ZREM', PERMITS, lease) end
local candidates = list()
local wanted, first = tonumber(ARGV[at]), tonumber(ARGV[at + 1])

-- Leases of holders that vanished have expired: their slots, and any permit on them, are free again.
local expired = redis.call('ZRANGEBYSCORE', LEASES, '-inf', now)
for _, lease in ipairs(expired) do
  local holder = string.match(lease, '^([^:]*):')
  if holder then dropHeld(holder) end
  redis.call('ZREM', PERMITS, lease)
end
if #expired > 0 then redis.call('ZREMRANGEBYSCORE', LEASES, '-inf', now) end
-- So has the waiting of processes that stopped asking.
local gone = redis.call('ZRANGEBYSCORE', DEMAND, '-inf', now)
for _, who in ipairs(gone) do redis.call('HDEL', LAST_GRANT, who) end
if #gone > 0 then redis.call('ZREMRANGEBYSCORE', DEMAND, '-inf', now) end
redis.call('ZREMRANGEBYSCORE', URGENT, '-inf', now)

if #restarted > 0 then
  redis.call('HSET', LAST_GRANT, owner, now)
  redis.call('PEXPIRE', LEASES, leaseTtl * 2)
  redis.call('PEXPIRE', STARTS, windowMs * 2)
end
if wanted == 0 or not urgent then redis.call('ZREM', URGENT, owner) end
if wanted == 0 then
  redis.call('ZREM', DEMAND, owner)
  redis.call('HDEL', LAST_GRANT, owner)
  return {0, 0, 0}
end
redis.call('ZADD', DEMAND, now + demandTtl, owner)
redis.call('PEXPIRE', DEMAND, demandTtl * 2)
if urgent then
  redis.call('ZADD', URGENT, now + demandTtl, owner)
  redis.call('PEXPIRE', URGENT, demandTtl * 2)
end
-- A process with only bulk requests waiting yields every slot while an interactive one waits
-- elsewhere (bulk is slowed, never starved: interactive batches are small and end); among
-- processes with interactive requests waiting, the shares below are theirs alone.
local yieldToUrgent = not urgent and redis.call('ZCARD', URGENT) > 0

local paused = tonumber(redis.call('GET', PAUSE) or '0')
if paused > now then return {0, paused - now, 1} end

-- The other waiting processes of its class: how many slots each holds and when it was last given a start.
local others = {}
for _, other in ipairs(redis.call('ZRANGE', DEMAND, 0, -1)) do
  if other ~= owner and (not urgent or redis.call('ZSCORE', URGENT, other)) then
    others[#others + 1] = {tonumber(redis.call('HGET', HELD, other) or '0'), tonumber(redis.call('HGET', LAST_GRANT, other) or '0')}
  end
end
-- First in line: no other waiting process holds fewer slots, or as many but was served longer ago.
local function firstInLine(held, lastGrant)
  for _, other in ipairs(others) do
    if other[1] < held or (other[1] == held and other[2] < lastGrant) then return false end
  end
  return true
end
-- A process may take one more slot while it holds fewer than its even share of them, or when it is
-- first in line. Without the share, a process could only ever draw level with the others: when the
-- rate bound rather than the slots, each held what the other held and replaced only its own
-- finished requests, and a few requests each in flight used a fraction of the rate for seconds.
local fairShare = math.floor(maxInFlight / (#others + 1))
local function mayTake(held, lastGrant)
  if yieldToUrgent then return false end
  return held < fairShare or firstInLine(held, lastGrant)
end

local held = tonumber(redis.call('HGET', HELD, owner) or '0')
local lastGrant = tonumber(redis.call('HGET', LAST_GRANT, owner) or '0')
local room = maxInFlight - redis.call('ZCARD', LEASES)
redis.call('ZREMRANGEBYSCORE', STARTS, '-inf', now - windowMs)
-- Unused permits count as requests started now: each may become one without asking.
local started = redis.call('ZCARD', STARTS) + redis.call('ZCARD', PERMITS)
local granted = 0
while granted < wanted and granted < room and started + granted < maxRate and mayTake(held + granted, granted > 0 and now or lastGrant) do
  local lease = owner .. ':' .. (first + granted)
  redis.call('ZADD', LEASES, now + leaseTtl, lease)
  redis.call('ZADD', STARTS, now, lease)
  granted = granted + 1
end
held = held + granted
started = started + granted
if granted > 0 then
  redis.call('HINCRBY', HELD, owner, granted)
  redis.call('HSET', LAST_GRANT, owner, now)
  redis.call('PEXPIRE', LEASES, leaseTtl * 2)
  redis.call('PEXPIRE', HELD, leaseTtl * 2)
  redis.call('PEXPIRE', LAST_GRANT, leaseTtl * 2)
  redis.call('PEXPIRE', STARTS, windowMs * 2)
end

-- Permits, while requests are still waiting: only if this owner could take again a lease it gave
-- back (so keeping it takes nothing from a process with a better claim), and only while the window
-- has room for every lease in flight to use one on top.
local reply = {granted, 0, 0}
if wanted > granted then
  if not mayTake(held - 1, granted > 0 and now or lastGrant) then
    reply[3] = 1
  else
    for i = 1, granted do candidates[#candidates + 1] = owner .. ':' .. (first + i - 1) end
    for _, lease in ipairs(candidates) do
      if started + 1 + maxInFlight > maxRate then break end
      if redis.call('ZSCORE', LEASES, lease) and redis.call('ZADD', PERMITS, 'NX', now, lease) == 1 then
        started = started + 1
        reply[#reply + 1] = lease
      end
    end
    if #reply > 3 then redis.call('PEXPIRE', PERMITS, leaseTtl * 2) end
  end
end
if granted == wanted then return reply end
-- Yielding: nothing of its own frees a slot for it until the interactive requests are served.
if yieldToUrgent then
  reply[2] = -2
  return reply
end

if started >= maxRate then
  local oldest = redis.call('ZRANGE', STARTS, 0, 0, 'WITHSCORES')
  local wait = oldest[2] and tonumber(oldest[2]) + windowMs - now + 1 or windowMs
  reply[2] = math.max(1, wait)
  return reply
end
-- Poll soon when a slot should come free for this owner: it holds none (so no finished request of
-- its own will wake it), or another holder is not waiting or holds at least two more, and so will
-- not keep the slots it frees.
if held == 0 then
  reply[2] = ${POLL_SOON}
  return reply
end
local holders = redis.call('HGETALL', HELD)
for i = 1, #holders, 2 do
  local other, count = holders[i], tonumber(holders[i + 1])
  if other ~= owner and count > 0 and (count >= held + 2 or not redis.call('ZSCORE', DEMAND, other)) then
    reply[2] = ${POLL_SOON}
    return reply
  end
end
reply[2] = -2
return reply
`;
