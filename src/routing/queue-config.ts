import fs from 'node:fs';
import { z } from 'zod';
import { customerTiers, type CustomerTier } from '../customers';
import { channels, type Channel } from '../interactions';
import { strategyNames } from './strategies';

/**
 * The routing queues, read once at start from `config/queues.json` and validated, so a typo in a
 * queue name or a strategy stops the start instead of stranding contacts in a queue nobody serves.
 */
const queueName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'must be a lowercase queue name like after-sales');
const seconds = z.number().int().min(0);

const queueSchema = z.object({
  name: queueName,
  description: z.string().optional(),
  channels: z.array(z.enum(channels)).min(1),
  /** Skill name → minimum level an agent needs to be offered this queue's contacts. */
  skills: z.record(z.string().min(1), z.number().int().min(0).max(10)).default({}),
  strategy: z.enum(strategyNames),
  /** Seconds of "virtual wait" a tier starts with: a vip is treated as if it had already waited that long. */
  tierBonusSeconds: z.object({ standard: seconds.default(0), gold: seconds.default(0), vip: seconds.default(0) }).default({ standard: 0, gold: 0, vip: 0 }),
  reservationTimeoutSeconds: z.number().positive().max(600),
  wrapUpSeconds: seconds.max(3600),
  serviceLevelSeconds: seconds,
  maxWaitSeconds: seconds.optional(),
  overflowQueue: queueName.optional(),
});

const queuesFileSchema = z
  .object({
    defaultQueue: queueName,
    /** Where a new inbound SMS or email conversation (which has no queue of its own) is routed. */
    channelQueues: z.partialRecord(z.enum(channels), queueName).default({}),
    queues: z.array(queueSchema).min(1),
  })
  .superRefine((file, ctx) => {
    const names = new Set<string>();
    file.queues.forEach((queue, index) => {
      if (names.has(queue.name)) ctx.addIssue({ code: 'custom', path: ['queues', index, 'name'], message: `duplicate queue ${queue.name}` });
      names.add(queue.name);
    });
    const known = (name: string | undefined, path: (string | number)[]) => {
      if (name !== undefined && !names.has(name)) ctx.addIssue({ code: 'custom', path, message: `unknown queue ${name}` });
    };
    known(file.defaultQueue, ['defaultQueue']);
    for (const [channel, name] of Object.entries(file.channelQueues)) known(name, ['channelQueues', channel]);
    file.queues.forEach((queue, index) => {
      known(queue.overflowQueue, ['queues', index, 'overflowQueue']);
      if (queue.overflowQueue === queue.name) ctx.addIssue({ code: 'custom', path: ['queues', index, 'overflowQueue'], message: 'a queue cannot overflow into itself' });
    });
  });

export type QueueSettings = z.output<typeof queueSchema>;
export interface QueuesConfig {
  defaultQueue: string;
  channelQueues: Partial<Record<Channel, string>>;
  queues: QueueSettings[];
  byName: Map<string, QueueSettings>;
}

/** Validates a queues document; the error names the file and every bad field. */
export function parseQueuesConfig(raw: unknown, source = 'queues.json'): QueuesConfig {
  const result = queuesFileSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
    throw new Error(`${source} is invalid: ${problems}`);
  }
  return { ...result.data, byName: new Map(result.data.queues.map((queue) => [queue.name, queue])) };
}

export function loadQueuesConfig(file: string): QueuesConfig {
  return parseQueuesConfig(JSON.parse(fs.readFileSync(file, 'utf8')), file);
}

/**
 * The contact's place in its queue, lower first: when it entered, moved earlier by its tier's
 * bonus. Because the bonus is a fixed head start rather than a separate priority band, priority
 * ages with waiting: a standard contact that has waited longer than the vip bonus beats a new vip.
 */
export function priorityScore(enqueuedAtMs: number, tier: CustomerTier, queue: Pick<QueueSettings, 'tierBonusSeconds'>): number {
  return enqueuedAtMs - (queue.tierBonusSeconds[tier] ?? 0) * 1000;
}

export function isTier(value: unknown): value is CustomerTier {
  return typeof value === 'string' && (customerTiers as readonly string[]).includes(value);
}

/**
 * The queue a waiting contact should move to: its queue's overflow once it waited longer than the
 * queue's max wait, following chained overflows that are also exceeded (cycles stop), else none.
 */
export function overflowTarget(config: Pick<QueuesConfig, 'byName'>, queueName: string, waitedSeconds: number): string | undefined {
  let current = config.byName.get(queueName);
  const seen = new Set<string>([queueName]);
  let target: string | undefined;
  while (current?.overflowQueue && current.maxWaitSeconds !== undefined && waitedSeconds > current.maxWaitSeconds) {
    if (seen.has(current.overflowQueue)) break;
    seen.add(current.overflowQueue);
    target = current.overflowQueue;
    current = config.byName.get(current.overflowQueue);
  }
  return target;
}

