import fs from 'node:fs';
import path from 'node:path';
import type { Connection } from 'mongoose';
import type { Redis } from 'ioredis';
import { projectRoot } from '../src/platform/config';

/**
 * What one contact costs the stores and the CPUs, for the screen-pop rows: a latency figure alone
 * cannot say whether a change made the work smaller or only moved it. Counts every MongoDB command
 * the app sends (driver command monitoring: the app's URI carries `monitorCommands=true`), every
 * Redis command the server ran (INFO commandstats, so BullMQ's share is included), and the CPU time
 * of this process and of the FerretDB and Redis that `scripts/services.sh` started (read from
 * /proc through their pidfiles; absent when the stores run elsewhere).
 */
export interface CallCosts {
  contacts: number;
  mongoCommandsPerContact: number;
  redisCommandsPerContact: number;
  /** CPU milliseconds per contact: this Node process (the app and the Twilio stand-in), FerretDB, Redis. */
  cpuMsPerContact: { node: number; ferretdb?: number; redis?: number };
  /** The most frequent MongoDB commands, "command collection" → per contact. */
  topMongo: [string, number][];
  /** The most frequent Redis commands → per contact. */
  topRedis: [string, number][];
}

const clockTicksPerSecond = 100;

function cpuMsOfPidfile(relative: string): number | undefined {
  try {
    const pid = fs.readFileSync(path.join(projectRoot(), relative), 'utf8').trim();
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicksPerSecond;
  } catch {
    return undefined;
  }
}

async function redisCommandCounts(redis: Redis): Promise<Map<string, number>> {
  const info = await redis.info('commandstats');
  return new Map([...info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)].map((match) => [match[1], Number(match[2])]));
}

export class CallCostMeter {
  private readonly mongoCounts = new Map<string, number>();
  private start = { node: 0, ferretdb: undefined as number | undefined, redis: undefined as number | undefined, redisCommands: new Map<string, number>() };

  constructor(mongo: Connection, private readonly redis: Redis) {
    mongo.getClient().on('commandStarted', (event) => {
      const target = (event.command as Record<string, unknown>)[event.commandName];
      const key = `${event.commandName}${typeof target === 'string' ? ` ${target}` : ''}`;
      this.mongoCounts.set(key, (this.mongoCounts.get(key) ?? 0) + 1);
    });
  }

  async begin(): Promise<void> {
    this.mongoCounts.clear();
    const usage = process.cpuUsage();
    this.start = {
      node: (usage.user + usage.system) / 1000,
      ferretdb: cpuMsOfPidfile('.data/ferretdb/ferretdb.pid'),
      redis: cpuMsOfPidfile('.data/redis/redis.pid'),
      redisCommands: await redisCommandCounts(this.redis),
    };
  }

  async end(contacts: number): Promise<CallCosts> {
    const usage = process.cpuUsage();
    const ferretdb = cpuMsOfPidfile('.data/ferretdb/ferretdb.pid');
    const redisCpu = cpuMsOfPidfile('.data/redis/redis.pid');
    const redisCounts = [...(await redisCommandCounts(this.redis))].map(([command, calls]) => [command, calls - (this.start.redisCommands.get(command) ?? 0)] as [string, number]);
    const redisCommands = redisCounts.reduce((sum, [, calls]) => sum + calls, 0);
    const top = (counts: Iterable<[string, number]>) => [...counts].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([key, count]): [string, number] => [key, per(count)]);
    const per = (value: number) => Math.round((value / Math.max(1, contacts)) * 10) / 10;
    const mongoTotal = [...this.mongoCounts.values()].reduce((sum, count) => sum + count, 0);
    return {
      contacts,
      mongoCommandsPerContact: per(mongoTotal),
      redisCommandsPerContact: per(redisCommands),
      cpuMsPerContact: {
        node: per((usage.user + usage.system) / 1000 - this.start.node),
        ...(ferretdb !== undefined && this.start.ferretdb !== undefined ? { ferretdb: per(ferretdb - this.start.ferretdb) } : {}),
        ...(redisCpu !== undefined && this.start.redis !== undefined ? { redis: per(redisCpu - this.start.redis) } : {}),
      },
      topMongo: top(this.mongoCounts),
      topRedis: top(redisCounts),
    };
  }
}
