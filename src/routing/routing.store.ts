import type { Redis } from 'ioredis';
import type { Channel } from '../interactions';
import { redisScript, type RedisScript } from '../platform/redis';
import { counterTtlSeconds, QueueCounters } from './queue-counters.store';
import type { AgentWorkItem, Reservation, ReservationState } from './routing.contracts';

/**
 * Routing's live state in Redis, and the Lua scripts that change it atomically. Everything that
 * must never be decided twice (a contact offered to two agents, an agent filled past capacity, an
 * offer both accepted and timed out) is checked and written inside one script, so any number of
 * processes can run the same code on the same Redis.
 *
 * Change journal. Every script that changes an agent's hash, connections or work also takes the
 * next number of `agents:seq` and writes it as the agent's score in `agents:changes`, in the same
 * atomic step. A process that read everyone up to number N then reads only the agents scored above
 * N (see AgentPicture): it can be behind, never miss a change. One member per agent, so the journal
 * never outgrows the agent count.
 *
 * Day counters. The script that makes a counted event happen (enqueue: offered; accept: answered,
 * answered_in_sl; a waiting contact cancelled or its offer rescinded as abandoned: abandoned; a move
 * between queues: overflowed and offered) increments the queue's day hash (see QueueCounters) in
 * the same atomic step, so a crash or a retry can neither lose nor double a count.
 *
 * Agent lifetime. An agent who is offline and holds no work, no offer and no connection is idle:
 * their hash (the only agent key left: empty sets and hashes do not exist in Redis) gets a TTL
 * (idleAgentTtlSeconds), set again by each write while idle and removed (PERSIST) by the first
 * write that makes them not idle; every agent write runs that check last, in its own script. An
 * expired hash reads as an offline agent. `forgetExpiredAgents` then drops the ids whose keys are
 * all gone from `agents`, `agents:available` and the journal, and raises `agents:floor`: a reader
 * whose journal number is below it reads everyone again, so no picture keeps a forgotten agent.
 *
 * Keys, all under `<prefix>routing:`:
 *   queue:<name>            ZSET waiting interaction ids, score = priority (lower first)
 *   contact:<interactionId> HASH queue, channel, customerId, score, enqueuedAt, state (waiting|reserved|assigned), reservationId, agentId, offered (first offer, ISO),
 *                           and after a transfer: targetAgentId (only they may be offered it), transferFrom, transferNote
 *   skip:<interactionId>    SET agents who rejected or missed this contact
 *   agent:<id>              HASH state (offline|available|away), reason, since, load, missed, idleSince, presenceGen,
 *                           orphanedGen (the presenceGen at which a sweep took their last connection from a dead node)
 *   agent:<id>:offers       SET pending reservation ids
 *   agent:<id>:work         HASH interactionId → JSON work item (accepted contacts, active or in wrap-up)
 *   agent:<id>:conns        SET live connection ids, each `<nodeId>:<socketId>` so a dead node's can be found
 *   agent:<id>:directed     HASH interactionId → queue of contacts transferred to this agent and waiting for them
 *   agents                  SET every agent ever seen; agents:available SET agents whose chosen state is available
 *   agents:seq              STRING the journal's last change number
 *   agents:changes          ZSET agent id → number of their last change
 *   agents:floor            STRING the journal number of the last time agents were forgotten (below it: read all)
 *   reservation:<id>        HASH the reservation (counted: it is in reservations:byQueue); kept a day after it ends;
 *                           after an accept that counted as answered, countedIn (the day hash) and countedInSl, to undo it
 *   reservations:pending    ZSET pending reservation ids by expiry (ms), for recovery after a crash
 *   reservations:byQueue    HASH queue → pending reservations (offers in flight), kept by the claim and the scripts that end them
 *   rr:<queue>              STRING the agent who got the queue's last offer (round robin)
 *   nodes                   SET ids of routing nodes that registered (see node-liveness.ts)
 *   node:<nodeId>           STRING the node's heartbeat, with a short TTL: gone means the node is dead
 *   node:<nodeId>:conns     HASH socketId → agentId of the connections the node holds, for the sweep
 *   presence:orphaned       HASH agentId → presence generation of agents a sweep left with no connection and
 *                           whose offline timer is not known to be scheduled yet (survives a sweeper's crash)
 *   stats:<queue>:<day>     HASH the day counters (QueueCounters), written by the scripts above
 */
export interface StoredContact {
  interactionId: string;
  queue: string;
  channel: Channel;
  customerId: string;
  score: number;
  enqueuedAt: number;
  state: 'waiting' | 'reserved' | 'assigned';
  reservationId?: string;
  agentId?: string;
  targetAgentId?: string;
  transfer?: { fromAgentId: string; note: string };
  /** When it was first offered to anyone (ISO). */
  firstOfferedAt?: string;
  /** The channel's own id for the contact (e.g. `twilio-call:<CallSid>`), so its bridge need not look it up. */
  externalId?: string;
}

export interface StoredAgent {
  agentId: string;
  state: 'offline' | 'available' | 'away';
  reason?: string;
  since: string;
  load: number;
  missed: number;
  idleSince: number;
  presenceGen: number;
  /** Set when a sweep took their last connection from a dead node; stale once presenceGen moved on. */
  orphanedGen?: number;
  /** Their live connection ids (`<nodeId>:<socketId>`), when read through the change journal (JournaledAgent). */
  connections?: string[];
}

/** An agent as the change journal delivers them: the hash, the connections and the work in hand. */
export interface JournaledAgent extends StoredAgent {
  connections: string[];
  work: WorkRecord[];
}

/** What changed since a journal number: `full` when everyone was read (first use, or the journal was reset). */
export interface AgentChanges {
  seq: number;
  full: boolean;
  agents: JournaledAgent[];
}

export interface WorkRecord extends AgentWorkItem {
  reservationId: string;
  weight: number;
}

export type StoredReservation = Reservation & { weight: number };

const endedReservationTtlSeconds = 86_400;

/**
 * How long an idle agent's hash (offline, no work, offers or connections) outlives their last write.
 * Long enough for a month's leave to come back to their last state and skills' history; the durable
 * agent (profile, queues, capacity) lives in the database, so what expires is only routing's cache.
 */
export const idleAgentTtlSeconds = 30 * 86_400;

export interface RoutingStoreOptions {
  /** The day counters the scripts write; by default the stats time zone's, on the same prefix. */
  counters?: QueueCounters;
  /** See idleAgentTtlSeconds (tests shorten it). */
  idleAgentTtlSeconds?: number;
}

/** A connection id as stored in an agent's set: the node that holds it, so a dead node's can be swept. */
export const tagConnection = (nodeId: string, connectionId: string) => `${nodeId}:${connectionId}`;

// Prepended to every script: a day counter incremented with its TTL kept.
const countPrelude = `
local function count(key, field, by)
  if by == 0 then return end
  redis.call('hincrby', key, field, by)
  redis.call('expire', key, ${counterTtlSeconds})
end
`;

// Wraps every script that changes an agent's hash, offers, connections or work (see \`journaled\`
// below): their last two KEYS are always agents:seq and agents:changes, their last two ARGV the idle
// TTL and the agent key prefix. The body runs as a function so that, whichever way it returns, each
// agent it journaled gets their lifetime decided on their final state: idle, the hash expires in
// the TTL; otherwise it is kept. Agent keys are built from the prefix: Redis runs standalone.
const journaledScript = (body: string) => `
local touched = {}
local function journal(id)
  redis.call('zadd', KEYS[#KEYS], redis.call('incr', KEYS[#KEYS - 1]), id)
  touched[#touched + 1] = id
end
local function run()
${body}
end
local result = run()
local ttl, prefix = ARGV[#ARGV - 1], ARGV[#ARGV]
for _, id in ipairs(touched) do
  local key = prefix .. id
  if (redis.call('hget', key, 'state') or 'offline') == 'offline' and redis.call('exists', key .. ':work', key .. ':offers', key .. ':conns') == 0 then
    redis.call('expire', key, ttl)
  else
    redis.call('persist', key)
  end
end
return result`;

// KEYS: contact, queue, day counters of the queue. ARGV: …, count as offered ('1')
const enqueueScript = `
if redis.call('exists', KEYS[1]) == 1 then return 0 end
redis.call('hset', KEYS[1], 'interactionId', ARGV[1], 'queue', ARGV[2], 'channel', ARGV[3], 'customerId', ARGV[4], 'score', ARGV[5], 'enqueuedAt', ARGV[6], 'state', 'waiting')
redis.call('zadd', KEYS[2], ARGV[5], ARGV[1])
if ARGV[7] == '1' then count(KEYS[3], 'offered', 1) end
if ARGV[8] ~= '' then redis.call('hset', KEYS[1], 'externalId', ARGV[8]) end
return 1`;

// KEYS: contact, queue, agent, skip, reservation, offers, pending, directed (of the agent), pending by queue
const claimScript = `
local c = redis.call('hmget', KEYS[1], 'state', 'targetAgentId', 'transferFrom', 'transferNote', 'offered')
if c[1] ~= 'waiting' then return 'contact' end
if not redis.call('zscore', KEYS[2], ARGV[1]) then return 'contact' end
local a = redis.call('hmget', KEYS[3], 'state', 'load')
if a[1] ~= 'available' then return 'agent' end
if c[2] and c[2] ~= ARGV[2] then return 'agent' end
if redis.call('sismember', KEYS[4], ARGV[2]) == 1 then return 'agent' end
local weight = tonumber(ARGV[4])
if tonumber(a[2] or '0') + weight > 100 then return 'agent' end
redis.call('zrem', KEYS[2], ARGV[1])
-- The contact's first offer time, kept across re-offers and transfers: accept writes it as offeredAt.
if c[5] then redis.call('hset', KEYS[1], 'state', 'reserved', 'reservationId', ARGV[3])
else redis.call('hset', KEYS[1], 'state', 'reserved', 'reservationId', ARGV[3], 'offered', ARGV[5]) end
redis.call('hincrby', KEYS[3], 'load', weight)
journal(ARGV[2])
redis.call('hset', KEYS[5], 'id', ARGV[3], 'interactionId', ARGV[1], 'agentId', ARGV[2], 'queue', ARGV[7], 'channel', ARGV[8], 'state', 'pending', 'offeredAt', ARGV[5], 'expiresAt', ARGV[9], 'weight', weight, 'counted', '1')
if c[3] then redis.call('hset', KEYS[5], 'transferFrom', c[3], 'transferNote', c[4] or '') end
redis.call('sadd', KEYS[6], ARGV[3])
redis.call('zadd', KEYS[7], ARGV[6], ARGV[3])
redis.call('hincrby', KEYS[9], ARGV[7], 1)
redis.call('hdel', KEYS[8], ARGV[1])
return 'ok'`;

// KEYS: reservation, contact, agent, queue, skip, offers, pending, available, pending by queue, day counters of the queue
// ARGV: reservationId, new state, requeue, count as missed, max missed, now iso, expected agent ('' any), count as abandoned
const releaseScript = `
local r = redis.call('hmget', KEYS[1], 'state', 'agentId', 'interactionId', 'weight', 'queue', 'counted')
if not r[1] then return {'missing', 0, 0, 0} end
if ARGV[7] ~= '' and r[2] ~= ARGV[7] then return {'forbidden', 0, 0, 0} end
if r[1] ~= 'pending' then return {r[1], 0, 0, 0} end
redis.call('hset', KEYS[1], 'state', ARGV[2], 'endedAt', ARGV[6])
redis.call('expire', KEYS[1], ${endedReservationTtlSeconds})
redis.call('srem', KEYS[6], ARGV[1])
redis.call('zrem', KEYS[7], ARGV[1])
if r[6] then redis.call('hincrby', KEYS[9], r[5], -1) end
if redis.call('hincrby', KEYS[3], 'load', -tonumber(r[4])) < 0 then redis.call('hset', KEYS[3], 'load', 0) end
journal(r[2])
local requeued = 0
if redis.call('hget', KEYS[2], 'reservationId') == ARGV[1] then
  if ARGV[3] == '1' then
    redis.call('hset', KEYS[2], 'state', 'waiting')
    -- A transferred contact the named agent let go falls back to its queue for anyone.
    redis.call('hdel', KEYS[2], 'reservationId', 'targetAgentId')
    -- The original score: a contact never loses its place because an agent let it go.
    redis.call('zadd', KEYS[4], redis.call('hget', KEYS[2], 'score'), r[3])
    if ARGV[2] == 'rejected' or ARGV[2] == 'timeout' then redis.call('sadd', KEYS[5], r[2]) end
    requeued = 1
  else
    redis.call('del', KEYS[2], KEYS[5])
    if ARGV[8] == '1' then count(KEYS[10], 'abandoned', 1) end
  end
end
local missed = 0
local away = 0
if ARGV[4] == '1' then
  missed = redis.call('hincrby', KEYS[3], 'missed', 1)
  if missed >= tonumber(ARGV[5]) and redis.call('hget', KEYS[3], 'state') == 'available' then
    redis.call('hset', KEYS[3], 'state', 'away', 'reason', 'missed offers', 'since', ARGV[6], 'missed', 0)
    redis.call('srem', KEYS[8], r[2])
    away = 1
  end
end
return {'ok', requeued, missed, away}`;

// KEYS: reservation, contact, agent, offers, pending, work, pending by queue, day counters of the queue
// ARGV: agentId, now iso, reservationId, JSON work item, now ms, service level seconds
const acceptScript = `
local r = redis.call('hmget', KEYS[1], 'state', 'agentId', 'interactionId', 'queue', 'counted', 'transferFrom')
if not r[1] then return 'missing' end
if r[2] ~= ARGV[1] then return 'forbidden' end
if r[1] ~= 'pending' then return r[1] end
-- Answered, once per contact: a transfer was answered already. Within the service level as
-- withinServiceLevel (queue-kpis.ts) decides it, from the contact's original enqueue time.
if not r[6] then
  local enqueuedAt = tonumber(redis.call('hget', KEYS[2], 'enqueuedAt') or '')
  local waited = enqueuedAt and (tonumber(ARGV[5]) - enqueuedAt) or 0
  local inSl = waited <= tonumber(ARGV[6]) * 1000 and 1 or 0
  count(KEYS[8], 'answered', 1)
  count(KEYS[8], 'answered_in_sl', inSl)
  redis.call('hset', KEYS[1], 'countedIn', KEYS[8], 'countedInSl', inSl)
end
redis.call('hset', KEYS[1], 'state', 'accepted', 'endedAt', ARGV[2])
redis.call('expire', KEYS[1], ${endedReservationTtlSeconds})
redis.call('srem', KEYS[4], ARGV[3])
redis.call('zrem', KEYS[5], ARGV[3])
if r[5] then redis.call('hincrby', KEYS[7], r[4], -1) end
redis.call('hset', KEYS[2], 'state', 'assigned', 'agentId', ARGV[1])
redis.call('hdel', KEYS[2], 'transferFrom', 'transferNote', 'targetAgentId')
redis.call('hset', KEYS[6], r[3], ARGV[4])
redis.call('hset', KEYS[3], 'missed', 0)
journal(ARGV[1])
return 'ok'`;

// KEYS: work, agent, contact, skip, reservation (undo only; any key otherwise)
// ARGV: interactionId, now ms, reservationId ('' any), agentId, undo the accept ('1')
const finishWorkScript = `
local raw = redis.call('hget', KEYS[1], ARGV[1])
if not raw then return 0 end
local item = cjson.decode(raw)
if ARGV[3] ~= '' and item.reservationId ~= ARGV[3] then return 0 end
redis.call('hdel', KEYS[1], ARGV[1])
-- An accept undone (the call could not be connected) was not an answer: its count goes with it.
-- The day hash is the one the accept wrote (named in the reservation), even past midnight.
if ARGV[5] == '1' then
  local counted = redis.call('hmget', KEYS[5], 'countedIn', 'countedInSl')
  if counted[1] then
    count(counted[1], 'answered', -1)
    count(counted[1], 'answered_in_sl', -tonumber(counted[2]))
    redis.call('hdel', KEYS[5], 'countedIn', 'countedInSl')
  end
end
if redis.call('hincrby', KEYS[2], 'load', -tonumber(item.weight)) < 0 then redis.call('hset', KEYS[2], 'load', 0) end
if redis.call('hlen', KEYS[1]) == 0 then redis.call('hset', KEYS[2], 'idleSince', ARGV[2]) end
journal(ARGV[4])
if redis.call('hget', KEYS[3], 'agentId') == ARGV[4] then redis.call('del', KEYS[3], KEYS[4]) end
return 1`;

// KEYS: contact, queue, skip, day counters of the queue. ARGV: interactionId, queue, count as abandoned ('1')
const cancelScript = `
local c = redis.call('hmget', KEYS[1], 'state', 'reservationId', 'queue')
if not c[1] then return {'missing', ''} end
if c[1] == 'waiting' then
  -- Moved (an overflow) since the caller read it: removing it from the old queue would leave it in the new one.
  if c[3] ~= ARGV[2] then return {'moved', ''} end
  redis.call('zrem', KEYS[2], ARGV[1])
  redis.call('del', KEYS[1], KEYS[3])
  if ARGV[3] == '1' then count(KEYS[4], 'abandoned', 1) end
  return {'removed', ''}
end
return {c[1], c[2] or ''}`;

// KEYS: work (from agent), agent (from), contact, target queue, skip, directed (target agent, or a dummy key)
// ARGV: interactionId, reservationId held, target queue, channel, customerId, enqueuedAt, original score, from agent, note, target agent ('' none), now ms
const transferScript = `
local raw = redis.call('hget', KEYS[1], ARGV[1])
if not raw then return 'missing' end
local item = cjson.decode(raw)
if item.reservationId ~= ARGV[2] then return 'missing' end
if item.phase ~= 'active' then return 'phase' end
redis.call('hdel', KEYS[1], ARGV[1])
if redis.call('hincrby', KEYS[2], 'load', -tonumber(item.weight)) < 0 then redis.call('hset', KEYS[2], 'load', 0) end
if redis.call('hlen', KEYS[1]) == 0 then redis.call('hset', KEYS[2], 'idleSince', ARGV[11]) end
journal(ARGV[8])
-- The front of the queue: it has already waited once.
local score = tonumber(ARGV[7])
local head = redis.call('zrange', KEYS[4], 0, 0, 'WITHSCORES')
if head[2] and tonumber(head[2]) <= score then score = tonumber(head[2]) - 1 end
local offered = redis.call('hget', KEYS[3], 'offered')
redis.call('del', KEYS[3], KEYS[5])
redis.call('hset', KEYS[3], 'interactionId', ARGV[1], 'queue', ARGV[3], 'channel', ARGV[4], 'customerId', ARGV[5], 'score', tostring(score), 'enqueuedAt', ARGV[6], 'state', 'waiting', 'transferFrom', ARGV[8], 'transferNote', ARGV[9])
if offered then redis.call('hset', KEYS[3], 'offered', offered) end
if ARGV[10] ~= '' then
  redis.call('hset', KEYS[3], 'targetAgentId', ARGV[10])
  redis.call('hset', KEYS[6], ARGV[1], ARGV[3])
  redis.call('expire', KEYS[6], 86400)
else
  -- Not straight back to the agent who handed it over.
  redis.call('sadd', KEYS[5], ARGV[8])
end
redis.call('zadd', KEYS[4], score, ARGV[1])
return 'ok'`;

// KEYS: contact, from queue, to queue, day counters of from, of to. ARGV: interactionId, from, to, new score
const moveScript = `
local c = redis.call('hmget', KEYS[1], 'state', 'queue')
if c[1] ~= 'waiting' or c[2] ~= ARGV[2] then return 0 end
if redis.call('zrem', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('zadd', KEYS[3], ARGV[4], ARGV[1])
redis.call('hset', KEYS[1], 'queue', ARGV[3], 'score', ARGV[4])
count(KEYS[4], 'overflowed', 1)
count(KEYS[5], 'offered', 1)
return 1`;

// KEYS: agent conns, node conns, agent. ARGV: tagged connection id, socket id, agent id
const disconnectScript = `
local removed = redis.call('srem', KEYS[1], ARGV[1])
if removed == 1 then journal(ARGV[3]) end
redis.call('hdel', KEYS[2], ARGV[2])
return {removed, redis.call('scard', KEYS[1]), tonumber(redis.call('hget', KEYS[3], 'presenceGen') or '0')}`;

// Removes one connection of a node whose heartbeat is gone. Only the caller whose hdel succeeds
// gets 'swept', so two sweepers (or a sweeper and the node's own late disconnect) act once.
// An agent left with no connection is noted in the same step, so the offline timer is still
// scheduled if this sweeper dies before doing it.
// KEYS: heartbeat, node conns, agent conns, agent, orphaned. ARGV: socket id, tagged connection id, agent id
const sweepConnectionScript = `
if redis.call('exists', KEYS[1]) == 1 then return {'alive', 0, 0} end
if redis.call('hdel', KEYS[2], ARGV[1]) == 0 then return {'gone', 0, 0} end
redis.call('srem', KEYS[3], ARGV[2])
local remaining = redis.call('scard', KEYS[3])
local gen = tonumber(redis.call('hget', KEYS[4], 'presenceGen') or '0')
if remaining == 0 then
  redis.call('hset', KEYS[5], ARGV[3], gen)
  -- Until they reconnect (the generation moves on) or their state is set, the matcher passes them over.
  redis.call('hset', KEYS[4], 'orphanedGen', gen)
end
journal(ARGV[3])
return {'swept', remaining, gen}`;

// KEYS: agents, agent, available. ARGV: agent id, state, since (ISO), reason ('' none), reset idle ('1'), now ms
const writeAgentStateScript = `
redis.call('sadd', KEYS[1], ARGV[1])
redis.call('hset', KEYS[2], 'state', ARGV[2], 'since', ARGV[3])
-- A state set by hand (or the grace timer) ends "left behind by a dead node".
redis.call('hdel', KEYS[2], 'orphanedGen')
if ARGV[4] ~= '' then redis.call('hset', KEYS[2], 'reason', ARGV[4]) else redis.call('hdel', KEYS[2], 'reason') end
if ARGV[2] == 'available' then
  redis.call('hset', KEYS[2], 'missed', 0)
  if ARGV[5] == '1' then redis.call('hset', KEYS[2], 'idleSince', ARGV[6]) end
  redis.call('sadd', KEYS[3], ARGV[1])
else
  redis.call('srem', KEYS[3], ARGV[1])
end
journal(ARGV[1])
return 1`;

// KEYS: agent conns, node conns, agent, agents. ARGV: tagged connection id, socket id, agent id
const connectScript = `
redis.call('sadd', KEYS[1], ARGV[1])
redis.call('hset', KEYS[2], ARGV[2], ARGV[3])
local gen = redis.call('hincrby', KEYS[3], 'presenceGen', 1)
redis.call('sadd', KEYS[4], ARGV[3])
journal(ARGV[3])
return gen`;

// KEYS: work. ARGV: interaction id, JSON item, agent id
const putWorkItemScript = `
redis.call('hset', KEYS[1], ARGV[1], ARGV[2])
journal(ARGV[3])
return 1`;

// Read-only. The agents changed after journal number ARGV[1] (-1, or a number the journal has not
// reached because it was reset: everyone), each with hash, connections and work. Agent keys are
// built here from ARGV[2] (\`<prefix>routing:agent:\`): Redis runs standalone, never as a cluster.
// Below the floor (agents were forgotten since): everyone too, so a forgotten agent leaves every picture.
// KEYS: seq, changes, agents, floor
const agentChangesScript = `
local seq = tonumber(redis.call('get', KEYS[1]) or '0')
local since = tonumber(ARGV[1])
local full = since < 0 or since > seq or since < tonumber(redis.call('get', KEYS[4]) or '0')
local ids = {}
if full then
  ids = redis.call('smembers', KEYS[3])
  local seen = {}
  for _, id in ipairs(ids) do seen[id] = true end
  for _, id in ipairs(redis.call('zrange', KEYS[2], 0, -1)) do
    if not seen[id] then ids[#ids + 1] = id end
  end
elseif since < seq then
  ids = redis.call('zrangebyscore', KEYS[2], '(' .. since, '+inf')
end
local out = {tostring(seq), full and 1 or 0}
for _, id in ipairs(ids) do
  local key = ARGV[2] .. id
  out[#out + 1] = id
  out[#out + 1] = redis.call('hgetall', key)
  out[#out + 1] = redis.call('smembers', key .. ':conns')
  out[#out + 1] = redis.call('hvals', key .. ':work')
end
return out`;

// Read-only. How many wait in a queue and the oldest enqueue time among them, reading as few
// contacts as it can: a score is the enqueue time less a tier bonus (less still after a transfer),
// never more, so once a score passes the oldest time seen no contact further on can be older.
// KEYS: queue. ARGV: contact key prefix (\`<prefix>routing:contact:\`)
const waitingSummaryScript = `
local count = redis.call('zcard', KEYS[1])
local oldest = false
local offset = 0
while offset < count do
  local page = redis.call('zrange', KEYS[1], offset, offset + 31, 'WITHSCORES')
  if #page == 0 then break end
  for i = 1, #page, 2 do
    if oldest and tonumber(page[i + 1]) > oldest then return {count, tostring(oldest)} end
    local at = tonumber(redis.call('hget', ARGV[1] .. page[i], 'enqueuedAt') or '')
    if at and (not oldest or at < oldest) then oldest = at end
  end
  offset = offset + 32
end
return {count, oldest and tostring(oldest) or ''}`;

// Drops agents whose keys are all gone (their idle hash expired) from the sets and the journal, and
// raises the floor to a new journal number when it dropped any. An agent written meanwhile has a hash
// again and stays. KEYS: agents, available, changes, seq, floor. ARGV: agent key prefix, agent ids…
const forgetAgentsScript = `
local forgotten = 0
for i = 2, #ARGV do
  local key = ARGV[1] .. ARGV[i]
  if redis.call('exists', key, key .. ':work', key .. ':offers', key .. ':conns') == 0 then
    local dropped = redis.call('srem', KEYS[1], ARGV[i]) + redis.call('srem', KEYS[2], ARGV[i]) + redis.call('zrem', KEYS[3], ARGV[i])
    if dropped > 0 then forgotten = forgotten + 1 end
  end
end
if forgotten > 0 then redis.call('set', KEYS[5], redis.call('incr', KEYS[4])) end
return forgotten`;

// Gives an agent back a contact they hold (the reconciler, after Redis lost it): the work item, its
// weight on their load, and the contact's hash (assigned to them) when it is missing. Nothing when
// they have it already, or when the contact is in routing in another way (a transfer in flight).
// KEYS: work, agent, contact, agents. ARGV: interactionId, JSON work item, agent id, weight, queue, channel, customerId, enqueuedAt ms, score
const restoreWorkScript = `
if redis.call('hexists', KEYS[1], ARGV[1]) == 1 then return 0 end
local c = redis.call('hmget', KEYS[3], 'state', 'agentId')
if c[1] and (c[1] ~= 'assigned' or c[2] ~= ARGV[3]) then return 0 end
redis.call('hset', KEYS[1], ARGV[1], ARGV[2])
redis.call('hincrby', KEYS[2], 'load', tonumber(ARGV[4]))
redis.call('sadd', KEYS[4], ARGV[3])
if not c[1] then
  redis.call('hset', KEYS[3], 'interactionId', ARGV[1], 'queue', ARGV[5], 'channel', ARGV[6], 'customerId', ARGV[7], 'enqueuedAt', ARGV[8], 'score', ARGV[9], 'state', 'assigned', 'agentId', ARGV[3])
end
journal(ARGV[3])
return 1`;

// Moves the journal's number past every number it had before a Redis reset (and the floor with it),
// so a reader that last read before the reset reads everyone again instead of missing the agents
// written since at numbers it had already passed. KEYS: seq, floor. ARGV: the number to reach
const advanceJournalScript = `
if tonumber(redis.call('get', KEYS[1]) or '0') >= tonumber(ARGV[1]) then return 0 end
redis.call('set', KEYS[1], ARGV[1])
redis.call('set', KEYS[2], ARGV[1])
return 1`;

// KEYS: orphaned. ARGV: agent id, generation handled
const clearOrphanScript = `
if redis.call('hget', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('hdel', KEYS[1], ARGV[1]) end
return 0`;

// KEYS: heartbeat, node conns, nodes. ARGV: node id
const forgetNodeScript = `
if redis.call('exists', KEYS[1]) == 1 then return 0 end
if redis.call('hlen', KEYS[2]) > 0 then return 0 end
return redis.call('srem', KEYS[3], ARGV[1])`;

export type ClaimResult = 'ok' | 'contact' | 'agent';
export interface ReleaseResult {
  outcome: 'ok' | 'missing' | 'forbidden' | ReservationState;
  requeued: boolean;
  missed: number;
  away: boolean;
}

export class RoutingStore {
  private readonly p: string;
  private readonly scripts: Record<
    | 'enqueue' | 'claim' | 'release' | 'accept' | 'finishWork' | 'cancel' | 'transfer' | 'move' | 'disconnect' | 'sweepConnection' | 'clearOrphan' | 'forgetNode'
    | 'writeAgentState' | 'connect' | 'putWorkItem' | 'agentChanges' | 'waitingSummary' | 'forgetAgents' | 'restoreWork' | 'advanceJournal',
    RedisScript
  >;
  private readonly counters: QueueCounters;

  constructor(
    readonly redis: Redis,
    redisKeyPrefix: string,
    options: RoutingStoreOptions = {},
  ) {
    this.p = `${redisKeyPrefix}routing:`;
    this.counters = options.counters ?? new QueueCounters(redis, redisKeyPrefix);
    const idleTtl = String(options.idleAgentTtlSeconds ?? idleAgentTtlSeconds);
    const plain = (lua: string) => redisScript(redis, countPrelude + lua);
    // The journal's two keys go last, after the script's own; the idle TTL and agent key prefix likewise.
    const journaled = (lua: string): RedisScript => {
      const run = redisScript(redis, countPrelude + journaledScript(lua));
      return (keys, args) => run([...keys, this.key.journalSeq(), this.key.journal()], [...args, idleTtl, this.key.agent('')]);
    };
    this.scripts = {
      enqueue: plain(enqueueScript), cancel: plain(cancelScript), move: plain(moveScript), clearOrphan: plain(clearOrphanScript), forgetNode: plain(forgetNodeScript),
      agentChanges: plain(agentChangesScript), waitingSummary: plain(waitingSummaryScript), forgetAgents: plain(forgetAgentsScript), advanceJournal: plain(advanceJournalScript),
      restoreWork: journaled(restoreWorkScript),
      claim: journaled(claimScript), release: journaled(releaseScript), accept: journaled(acceptScript), finishWork: journaled(finishWorkScript),
      transfer: journaled(transferScript), disconnect: journaled(disconnectScript), sweepConnection: journaled(sweepConnectionScript),
      writeAgentState: journaled(writeAgentStateScript), connect: journaled(connectScript), putWorkItem: journaled(putWorkItemScript),
    };
  }

  readonly key = {
    queue: (name: string) => `${this.p}queue:${name}`,
    contact: (id: string) => `${this.p}contact:${id}`,
    skip: (id: string) => `${this.p}skip:${id}`,
    agent: (id: string) => `${this.p}agent:${id}`,
    offers: (id: string) => `${this.p}agent:${id}:offers`,
    directed: (id: string) => `${this.p}agent:${id}:directed`,
    work: (id: string) => `${this.p}agent:${id}:work`,
    conns: (id: string) => `${this.p}agent:${id}:conns`,
    agents: () => `${this.p}agents`,
    available: () => `${this.p}agents:available`,
    journalSeq: () => `${this.p}agents:seq`,
    journal: () => `${this.p}agents:changes`,
    journalFloor: () => `${this.p}agents:floor`,
    reservation: (id: string) => `${this.p}reservation:${id}`,
    pending: () => `${this.p}reservations:pending`,
    pendingByQueue: () => `${this.p}reservations:byQueue`,
    roundRobin: (queue: string) => `${this.p}rr:${queue}`,
    nodes: () => `${this.p}nodes`,
    node: (nodeId: string) => `${this.p}node:${nodeId}`,
    nodeConns: (nodeId: string) => `${this.p}node:${nodeId}:conns`,
    orphaned: () => `${this.p}presence:orphaned`,
  };

  /**
   * Queues a contact unless it is already in routing (false then); counted as offered today with it,
   * unless `count` is false (a contact put back that was counted when it first arrived).
   */
  async enqueue(contact: Omit<StoredContact, 'state'>, options: { count?: boolean } = {}): Promise<boolean> {
    const added = await this.scripts.enqueue(
      [this.key.contact(contact.interactionId), this.key.queue(contact.queue), this.counters.key(contact.queue, new Date())],
      [contact.interactionId, contact.queue, contact.channel, contact.customerId, String(contact.score), String(contact.enqueuedAt), options.count === false ? '0' : '1', contact.externalId ?? ''],
    );
    return added === 1;
  }

  async contact(interactionId: string): Promise<StoredContact | null> {
    const raw = await this.redis.hgetall(this.key.contact(interactionId));
    if (!raw.state) return null;
    return {
      interactionId, queue: raw.queue, channel: raw.channel as Channel, customerId: raw.customerId, score: Number(raw.score),
      enqueuedAt: Number(raw.enqueuedAt), state: raw.state as StoredContact['state'],
      ...(raw.reservationId ? { reservationId: raw.reservationId } : {}), ...(raw.agentId ? { agentId: raw.agentId } : {}),
      ...(raw.targetAgentId ? { targetAgentId: raw.targetAgentId } : {}),
      ...(raw.transferFrom ? { transfer: { fromAgentId: raw.transferFrom, note: raw.transferNote ?? '' } } : {}),
      ...(raw.offered ? { firstOfferedAt: raw.offered } : {}),
      ...(raw.externalId ? { externalId: raw.externalId } : {}),
    };
  }

  /** The first `limit` waiting contacts of a queue, best first. */
  async waiting(queue: string, limit: number): Promise<{ interactionId: string; score: number; queue: string }[]> {
    const flat = await this.redis.zrange(this.key.queue(queue), '0', String(limit - 1), 'WITHSCORES');
    const result: { interactionId: string; score: number; queue: string }[] = [];
    for (let index = 0; index < flat.length; index += 2) result.push({ interactionId: flat[index], score: Number(flat[index + 1]), queue });
    return result;
  }

  waitingCount(queue: string): Promise<number> {
    return this.redis.zcard(this.key.queue(queue));
  }

  skipped(interactionId: string): Promise<string[]> {
    return this.redis.smembers(this.key.skip(interactionId));
  }

  async claim(input: { reservation: StoredReservation; expiresAtMs: number }): Promise<ClaimResult> {
    const r = input.reservation;
    return (await this.scripts.claim(
      [
        this.key.contact(r.interactionId), this.key.queue(r.queue), this.key.agent(r.agentId), this.key.skip(r.interactionId),
        this.key.reservation(r.id), this.key.offers(r.agentId), this.key.pending(), this.key.directed(r.agentId), this.key.pendingByQueue(),
      ],
      [r.interactionId, r.agentId, r.id, String(r.weight), r.offeredAt, String(input.expiresAtMs), r.queue, r.channel, r.expiresAt],
    )) as ClaimResult;
  }

  /**
   * Ends a pending offer. `abandoned`: the customer left (with `requeue` false), counted as abandoned
   * today only if this call is the one that ends it.
   */
  async release(
    reservation: StoredReservation,
    input: { state: ReservationState; requeue: boolean; countMiss: boolean; maxMissed: number; expectedAgentId?: string; abandoned?: boolean },
  ): Promise<ReleaseResult> {
    const now = new Date();
    const [outcome, requeued, missed, away] = (await this.scripts.release(
      [
        this.key.reservation(reservation.id), this.key.contact(reservation.interactionId), this.key.agent(reservation.agentId),
        this.key.queue(reservation.queue), this.key.skip(reservation.interactionId), this.key.offers(reservation.agentId), this.key.pending(), this.key.available(),
        this.key.pendingByQueue(), this.counters.key(reservation.queue, now),
      ],
      [reservation.id, input.state, input.requeue ? '1' : '0', input.countMiss ? '1' : '0', String(input.maxMissed), now.toISOString(), input.expectedAgentId ?? '', input.abandoned ? '1' : '0'],
    )) as [ReleaseResult['outcome'], number, number, number];
    return { outcome, requeued: requeued === 1, missed, away: away === 1 };
  }

  /**
   * Accepts a pending offer: the agent takes the contact, counted as answered today (within the
   * queue's service level or not, from its enqueue time) unless it came by transfer.
   */
  async accept(reservation: StoredReservation, agentId: string, work: WorkRecord, options: { serviceLevelSeconds?: number } = {}): Promise<'ok' | 'missing' | 'forbidden' | ReservationState> {
    const now = new Date();
    return (await this.scripts.accept(
      [
        this.key.reservation(reservation.id), this.key.contact(reservation.interactionId), this.key.agent(agentId),
        this.key.offers(agentId), this.key.pending(), this.key.work(agentId), this.key.pendingByQueue(), this.counters.key(reservation.queue, now),
      ],
      [agentId, now.toISOString(), reservation.id, JSON.stringify(work), String(now.getTime()), String(options.serviceLevelSeconds ?? 0)],
    )) as 'ok' | 'missing' | 'forbidden' | ReservationState;
  }

  /** Ends a work item (wrap-up over) and gives its capacity back. */
  async finishWork(agentId: string, interactionId: string, reservationId = ''): Promise<boolean> {
    return this.endWork(agentId, interactionId, reservationId, false);
  }

  /** Takes back an accept whose contact could not be connected: the work item, its capacity and its answered count. */
  undoAccept(agentId: string, interactionId: string, reservationId: string): Promise<boolean> {
    return this.endWork(agentId, interactionId, reservationId, true);
  }

  private async endWork(agentId: string, interactionId: string, reservationId: string, undo: boolean): Promise<boolean> {
    const done = await this.scripts.finishWork(
      [this.key.work(agentId), this.key.agent(agentId), this.key.contact(interactionId), this.key.skip(interactionId), this.key.reservation(reservationId)],
      [interactionId, String(Date.now()), reservationId, agentId, undo ? '1' : '0'],
    );
    return done === 1;
  }

  /**
   * Removes a waiting contact (counted as abandoned today when `abandoned`); for one under offer,
   * returns the reservation to rescind. 'moved': it no longer waits in `queue` (read it again).
   */
  async cancel(interactionId: string, queue: string, options: { abandoned?: boolean } = {}): Promise<{ state: 'missing' | 'moved' | 'removed' | 'reserved' | 'assigned'; reservationId?: string }> {
    const [state, reservationId] = (await this.scripts.cancel(
      [this.key.contact(interactionId), this.key.queue(queue), this.key.skip(interactionId), this.counters.key(queue, new Date())],
      [interactionId, queue, options.abandoned ? '1' : '0'],
    )) as [string, string];
    return { state: state as 'missing' | 'moved' | 'removed' | 'reserved' | 'assigned', ...(reservationId ? { reservationId } : {}) };
  }

  /**
   * Takes an active contact off the agent (capacity freed, no wrap-up) and puts it back waiting at the
   * front of `queue`, for `targetAgentId` only when given. 'missing': the agent no longer holds it.
   */
  async transfer(input: { item: WorkRecord; contact: Pick<StoredContact, 'customerId' | 'enqueuedAt' | 'score'>; fromAgentId: string; queue: string; note: string; targetAgentId?: string }): Promise<'ok' | 'missing' | 'phase'> {
    const { item } = input;
    return (await this.scripts.transfer(
      [
        this.key.work(input.fromAgentId), this.key.agent(input.fromAgentId), this.key.contact(item.interactionId), this.key.queue(input.queue),
        this.key.skip(item.interactionId), this.key.directed(input.targetAgentId ?? input.fromAgentId),
      ],
      [
        item.interactionId, item.reservationId, input.queue, item.channel, input.contact.customerId, String(input.contact.enqueuedAt), String(input.contact.score),
        input.fromAgentId, input.note, input.targetAgentId ?? '', String(Date.now()),
      ],
    )) as 'ok' | 'missing' | 'phase';
  }

  /**
   * Moves a waiting contact between queues (overflow, or a supervisor), counted today as overflowed
   * from `from` and offered in `to`; false when it is no longer waiting in `from`.
   */
  async move(interactionId: string, from: string, to: string, score: number): Promise<boolean> {
    const now = new Date();
    return (
      (await this.scripts.move(
        [this.key.contact(interactionId), this.key.queue(from), this.key.queue(to), this.counters.key(from, now), this.counters.key(to, now)],
        [interactionId, from, to, String(score)],
      )) === 1
    );
  }

  /** Queues holding contacts transferred to this agent, so freeing them up also matches those queues. */
  async directedQueues(agentId: string): Promise<string[]> {
    return [...new Set(await this.redis.hvals(this.key.directed(agentId)))];
  }

  isKnownAgent(agentId: string): Promise<boolean> {
    return this.redis.sismember(this.key.agents(), agentId).then((found) => found === 1);
  }

  /** Pending offers per queue (for the wallboard's "offers in flight"): one counter hash, kept by the scripts. */
  async pendingByQueue(): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (const [queue, count] of Object.entries(await this.redis.hgetall(this.key.pendingByQueue()))) if (Number(count) > 0) counts.set(queue, Number(count));
    return counts;
  }

  async reservation(id: string): Promise<StoredReservation | null> {
    const raw = await this.redis.hgetall(this.key.reservation(id));
    if (!raw.id) return null;
    return {
      id: raw.id, interactionId: raw.interactionId, agentId: raw.agentId, queue: raw.queue, channel: raw.channel as Channel,
      state: raw.state as ReservationState, offeredAt: raw.offeredAt, expiresAt: raw.expiresAt, weight: Number(raw.weight),
      ...(raw.transferFrom ? { transfer: { fromAgentId: raw.transferFrom, note: raw.transferNote ?? '' } } : {}),
      ...(raw.offered ? { firstOfferedAt: raw.offered } : {}),
    };
  }

  async agent(agentId: string): Promise<StoredAgent> {
    return toStoredAgent(agentId, await this.redis.hgetall(this.key.agent(agentId)));
  }

  async writeAgentState(agentId: string, state: StoredAgent['state'], reason: string | undefined, resetIdle: boolean): Promise<void> {
    const now = new Date();
    await this.scripts.writeAgentState(
      [this.key.agents(), this.key.agent(agentId), this.key.available()],
      [agentId, state, now.toISOString(), reason ?? '', resetIdle ? '1' : '0', String(now.getTime())],
    );
  }

  allAgents(): Promise<string[]> {
    return this.redis.smembers(this.key.agents());
  }

  offerIds(agentId: string): Promise<string[]> {
    return this.redis.smembers(this.key.offers(agentId));
  }

  async work(agentId: string): Promise<WorkRecord[]> {
    return Object.values(await this.redis.hgetall(this.key.work(agentId))).map((raw) => JSON.parse(raw) as WorkRecord);
  }

  async workItem(agentId: string, interactionId: string): Promise<WorkRecord | null> {
    const raw = await this.redis.hget(this.key.work(agentId), interactionId);
    return raw ? (JSON.parse(raw) as WorkRecord) : null;
  }

  async putWorkItem(agentId: string, item: WorkRecord): Promise<void> {
    await this.scripts.putWorkItem([this.key.work(agentId)], [item.interactionId, JSON.stringify(item), agentId]);
  }

  /**
   * Gives an agent back a contact MongoDB says they hold (see restoreWorkScript); false when they
   * had it already or the contact is in routing another way.
   */
  async restoreWork(agentId: string, item: WorkRecord, contact: Pick<StoredContact, 'customerId' | 'enqueuedAt' | 'score'>): Promise<boolean> {
    return (
      (await this.scripts.restoreWork(
        [this.key.work(agentId), this.key.agent(agentId), this.key.contact(item.interactionId), this.key.agents()],
        [item.interactionId, JSON.stringify(item), agentId, String(item.weight), item.queue, item.channel, contact.customerId, String(contact.enqueuedAt), String(contact.score)],
      )) === 1
    );
  }

  /** See advanceJournalScript; true when the journal number moved. */
  async advanceJournal(to: number): Promise<boolean> {
    return (await this.scripts.advanceJournal([this.key.journalSeq(), this.key.journalFloor()], [String(to)])) === 1;
  }

  /** Whether the agent's hash holds a state (it does not after Redis lost it, even once a load was put back). */
  async hasAgentState(agentId: string): Promise<boolean> {
    return (await this.redis.hexists(this.key.agent(agentId), 'state')) === 1;
  }

  async hasConnection(agentId: string, nodeId: string, connectionId: string): Promise<boolean> {
    return (await this.redis.sismember(this.key.conns(agentId), tagConnection(nodeId, connectionId))) === 1;
  }

  /** For each interaction id, whether routing holds it (waiting, under offer or assigned): one pipeline. */
  async inRouting(interactionIds: readonly string[]): Promise<boolean[]> {
    if (!interactionIds.length) return [];
    const pipeline = this.redis.pipeline();
    for (const id of interactionIds) pipeline.exists(this.key.contact(id));
    return ((await pipeline.exec()) ?? []).map(([error, value]) => {
      if (error) throw error;
      return value === 1;
    });
  }

  /** Every pending reservation id (offers in flight), for the reconciler. */
  pendingReservations(): Promise<string[]> {
    return this.redis.zrange(this.key.pending(), '0', '-1');
  }

  /** Drops an id from the pending set whose reservation is gone or no longer pending. */
  async dropPending(reservationId: string): Promise<void> {
    await this.redis.zrem(this.key.pending(), reservationId);
  }

  /** Reservations still pending after their expiry: their timeout job was lost with a process. */
  expiredPending(nowMs: number): Promise<string[]> {
    return this.redis.zrangebyscore(this.key.pending(), '-inf', nowMs);
  }

  lastRoundRobin(queue: string): Promise<string | null> {
    return this.redis.get(this.key.roundRobin(queue));
  }

  async setLastRoundRobin(queue: string, agentId: string): Promise<void> {
    await this.redis.set(this.key.roundRobin(queue), agentId);
  }

  /** Adds a connection held by `nodeId`; returns the new presence generation (it voids pending offline timers). */
  async connect(agentId: string, nodeId: string, connectionId: string): Promise<number> {
    const gen = await this.scripts.connect(
      [this.key.conns(agentId), this.key.nodeConns(nodeId), this.key.agent(agentId), this.key.agents()],
      [tagConnection(nodeId, connectionId), connectionId, agentId],
    );
    return Number(gen);
  }

  /**
   * Removes a connection; returns whether it was still there (a sweep may have taken it first), how
   * many remain and the current presence generation.
   */
  async disconnect(agentId: string, nodeId: string, connectionId: string): Promise<{ removed: boolean; remaining: number; gen: number }> {
    const [removed, remaining, gen] = (await this.scripts.disconnect(
      [this.key.conns(agentId), this.key.nodeConns(nodeId), this.key.agent(agentId)],
      [tagConnection(nodeId, connectionId), connectionId, agentId],
    )) as [number, number, number];
    return { removed: removed === 1, remaining, gen };
  }

  /** Announces a node and starts its heartbeat. */
  async registerNode(nodeId: string, ttlMs: number): Promise<void> {
    await this.redis.multi().set(this.key.node(nodeId), '1', 'PX', ttlMs).sadd(this.key.nodes(), nodeId).exec();
  }

  /** Refreshes a node's heartbeat; false when it had already expired (the node may have been swept). */
  async beat(nodeId: string, ttlMs: number): Promise<boolean> {
    return (await this.redis.set(this.key.node(nodeId), '1', 'PX', ttlMs, 'XX')) === 'OK';
  }

  async stopHeartbeat(nodeId: string): Promise<void> {
    await this.redis.del(this.key.node(nodeId));
  }

  /** Registered nodes whose heartbeat is gone. */
  async deadNodes(): Promise<string[]> {
    const nodes = await this.redis.smembers(this.key.nodes());
    if (!nodes.length) return [];
    const pipeline = this.redis.pipeline();
    for (const nodeId of nodes) pipeline.exists(this.key.node(nodeId));
    const alive = ((await pipeline.exec()) ?? []).map(([, value]) => value === 1);
    return nodes.filter((_, index) => !alive[index]);
  }

  /** The connections a node holds (socketId → agentId). */
  nodeConnections(nodeId: string): Promise<Record<string, string>> {
    return this.redis.hgetall(this.key.nodeConns(nodeId));
  }

  /**
   * Removes a dead node's connection. 'swept' (with what the agent has left) only for the one caller
   * that removed it; 'alive' when the node's heartbeat came back; 'gone' when someone else took it.
   */
  async sweepConnection(nodeId: string, connectionId: string, agentId: string): Promise<{ outcome: 'swept' | 'alive' | 'gone'; remaining: number; gen: number }> {
    const [outcome, remaining, gen] = (await this.scripts.sweepConnection(
      [this.key.node(nodeId), this.key.nodeConns(nodeId), this.key.conns(agentId), this.key.agent(agentId), this.key.orphaned()],
      [connectionId, tagConnection(nodeId, connectionId), agentId],
    )) as ['swept' | 'alive' | 'gone', number, number];
    return { outcome, remaining, gen };
  }

  /** Agents a sweep left with no connection whose offline timer is not yet known to be scheduled. */
  async orphanedAgents(): Promise<{ agentId: string; gen: number }[]> {
    return Object.entries(await this.redis.hgetall(this.key.orphaned())).map(([agentId, gen]) => ({ agentId, gen: Number(gen) }));
  }

  /** Clears an orphan once its timer is scheduled; kept when a newer sweep noted it again since. */
  async clearOrphan(agentId: string, gen: number): Promise<void> {
    await this.scripts.clearOrphan([this.key.orphaned()], [agentId, String(gen)]);
  }

  /** Drops a dead node with no connections left from the registry; false when it is alive or still holds some. */
  async forgetNode(nodeId: string): Promise<boolean> {
    return (await this.scripts.forgetNode([this.key.node(nodeId), this.key.nodeConns(nodeId), this.key.nodes()], [nodeId])) === 1;
  }

  connectionCount(agentId: string): Promise<number> {
    return this.redis.scard(this.key.conns(agentId));
  }

  /** How many contacts wait in a queue, and since when the oldest of them (ms; undefined when none). */
  async waitingSummary(queue: string): Promise<{ count: number; oldestEnqueuedAt?: number }> {
    const [count, oldest] = (await this.scripts.waitingSummary([this.key.queue(queue)], [this.key.contact('')])) as [number, string];
    return { count: Number(count), ...(oldest ? { oldestEnqueuedAt: Number(oldest) } : {}) };
  }

  /**
   * The agents whose hash, connections or work changed after journal number `since`, with the
   * number read up to; `since` -1 reads every agent (so does a number the journal never reached:
   * it was reset). One read-only script, so the changes and the number are one consistent cut.
   */
  async agentChanges(since: number): Promise<AgentChanges> {
    const [seq, full, ...flat] = (await this.scripts.agentChanges([this.key.journalSeq(), this.key.journal(), this.key.agents(), this.key.journalFloor()], [String(since), this.key.agent('')])) as [
      string,
      number,
      ...unknown[],
    ];
    const agents: JournaledAgent[] = [];
    for (let index = 0; index < flat.length; index += 4) {
      const [agentId, hash, connections, work] = flat.slice(index, index + 4) as [string, string[], string[], string[]];
      agents.push({ ...toStoredAgent(agentId, pairs(hash)), connections, work: work.map((raw) => JSON.parse(raw) as WorkRecord) });
    }
    return { seq: Number(seq), full: full === 1, agents };
  }

  /**
   * Drops from `agents`, `agents:available` and the journal every agent whose keys are all gone (their
   * idle hash expired); returns how many. Reads the ids in pages and re-checks each atomically, so it
   * may run on every node at once and alongside any write.
   */
  async forgetExpiredAgents(pageSize = 500): Promise<number> {
    const ids = new Set<string>();
    let cursor = '0';
    do {
      const [next, members] = await this.redis.sscan(this.key.agents(), cursor, 'COUNT', pageSize);
      for (const id of members) ids.add(id);
      cursor = next;
    } while (cursor !== '0');
    // The journal too: an agent written only by a script that does not add them to \`agents\`.
    do {
      const [next, flat] = await this.redis.zscan(this.key.journal(), cursor, 'COUNT', pageSize);
      for (let index = 0; index < flat.length; index += 2) ids.add(flat[index]);
      cursor = next;
    } while (cursor !== '0');
    const all = [...ids];
    let forgotten = 0;
    for (let start = 0; start < all.length; start += pageSize) {
      const page = all.slice(start, start + pageSize);
      const exists = await Promise.all(page.map((id) => this.redis.exists(this.key.agent(id))));
      const gone = page.filter((_, index) => exists[index] === 0);
      if (gone.length) forgotten += Number(await this.scripts.forgetAgents([this.key.agents(), this.key.available(), this.key.journal(), this.key.journalSeq(), this.key.journalFloor()], [this.key.agent(''), ...gone]));
    }
    return forgotten;
  }

  /**
   * Agents (read with their connections) nobody can reach: every connection they have is on a node
   * whose heartbeat is gone, or a sweep took their last one from a dead node and they have not
   * reconnected. They are inside the presence grace, their desk dark. One MGET for all of them.
   */
  async unreachable(agents: readonly StoredAgent[]): Promise<Set<string>> {
    const nodeOf = (connection: string) => connection.slice(0, connection.indexOf(':'));
    const nodeIds = [...new Set(agents.flatMap((agent) => (agent.connections ?? []).map(nodeOf)))];
    const beats = nodeIds.length ? await this.redis.mget(nodeIds.map((nodeId) => this.key.node(nodeId))) : [];
    const alive = new Set(nodeIds.filter((_, index) => beats[index] !== null));
    const result = new Set<string>();
    for (const agent of agents) {
      const connections = agent.connections ?? [];
      const stranded = connections.length ? connections.every((connection) => !alive.has(nodeOf(connection))) : agent.orphanedGen === agent.presenceGen;
      if (stranded) result.add(agent.agentId);
    }
    return result;
  }
}

/** A flat HGETALL reply from a script ([field, value, …]) as a record. */
function pairs(flat: readonly string[]): Record<string, string> {
  const record: Record<string, string> = {};
  for (let index = 0; index + 1 < flat.length; index += 2) record[flat[index]] = flat[index + 1];
  return record;
}

/** An agent's Redis hash as a record; a missing hash reads as an offline agent. */
function toStoredAgent(agentId: string, raw: Record<string, string>): StoredAgent {
  return {
    agentId,
    state: (raw.state as StoredAgent['state']) ?? 'offline',
    ...(raw.reason ? { reason: raw.reason } : {}),
    since: raw.since ?? new Date(0).toISOString(),
    load: Number(raw.load ?? 0),
    missed: Number(raw.missed ?? 0),
    idleSince: Number(raw.idleSince ?? 0),
    presenceGen: Number(raw.presenceGen ?? 0),
    ...(raw.orphanedGen !== undefined ? { orphanedGen: Number(raw.orphanedGen) } : {}),
  };
}
