import { z } from 'zod';
import type { Interaction, InteractionService } from '../interactions';
import { AppError } from '../platform/errors';
import type { Logger } from '../platform/logger';
import { isMongoUnreachable, isRedisUnreachable } from '../platform/store-outage';
import type { RoutingEvent } from '../routing';
import type { TaskEvent } from '../tasks';
import { dayId } from './buckets';
import { contactFacts, type ContactRules } from './contact-facts';
import { BatchRetrying, type FactCounter } from './fact-counter';
import { agentStateFact, csatFact } from './facts';
import { localDay, splitByQuarter } from './intervals';
import { emptySums, figures, isSatisfied } from './kpis';
import type { AgentStateDocument } from './reports.model';
import type { ReportsRepository } from './reports.repository';
import { taskFacts } from './task-facts';

export interface ReportsSettings {
  timeZone: string;
  fcrDays: number;
}

export const csatAnswerSchema = z.object({
  interactionId: z.string().min(1),
  queue: z.string().min(1).optional(),
  agentId: z.string().min(1).optional(),
  channel: z.string().min(1),
  score: z.number().int().min(1).max(5),
  at: z.date(),
});
export type CsatAnswerInput = z.infer<typeof csatAnswerSchema>;

/** The wallboard's "today" for one queue, from the same day bucket and KPI functions as the reports. */
export interface QueueToday {
  day: string;
  timeZone: string;
  offered: number;
  answered: number;
  answeredWithinServiceLevel: number;
  abandoned: number;
  shortAbandoned: number;
  overflowed: number;
  serviceLevelSeconds: number;
  serviceLevel: number | null;
  serviceLevelAnswered: number | null;
  asaSeconds: number | null;
  abandonmentRate: number | null;
  longestWaitSeconds: number | null;
}

/** How long a reader waits for pending counting before it reads (longer only while the database is away). */
const settleMaxMs = 10_000;

/**
 * Feeds the rollups as things happen: interaction changes (queue and handling facts), routing's
 * agent states (occupancy), task events (turnaround) and CSAT answers. Each listener derives facts
 * from the record it is given and counts the ones not counted yet.
 */
export class ReportsService {
  /** Counting started by listeners and not finished yet (this process). */
  private readonly inFlight = new Set<Promise<void>>();
  /** Each agent's pending state swap (this process), so the next one starts after it. */
  private readonly agentChains = new Map<string, Promise<void>>();

  constructor(
    private readonly deps: {
      repository: ReportsRepository;
      counter: FactCounter;
      interactions: InteractionService;
      rules: ContactRules;
      settings: ReportsSettings;
      log: Logger;
    },
  ) {}

  /**
   * Interaction listener. Returns at once and counts in the background, so routing (the next
   * listener, which offers the contact) waits for no rollup write; readers settle first.
   */
  onInteractionChange(change: { interaction: Interaction; created: boolean }): Promise<void> {
    this.track(() => this.countContact(change), { interactionId: change.interaction.id });
    return Promise.resolve();
  }

  /**
   * Waits for the counting this process had started when called (the wallboard and reports read
   * after it); not for work started meanwhile, so a busy center never starves its readers.
   */
  async settle(): Promise<void> {
    const started = Promise.all([...this.inFlight]);
    // Pending facts are written now rather than when the batch timer fires; facts that counting
    // adds after this (a repeat found) follow with the next batch. While the database is away the
    // counter retries its batch until written: readers wait a little, then read what is there.
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, settleMaxMs);
    });
    await Promise.race([this.deps.counter.flush().then(() => started), bound]);
    clearTimeout(timer);
  }

  private track(work: () => Promise<void>, context: Record<string, unknown>): Promise<void> {
    const running: Promise<void> = work()
      .catch((error: unknown) => {
        // A store outage: the batch is retried (or repaired from its journal); one line without a stack.
        if (isMongoUnreachable(error) || isRedisUnreachable(error)) this.deps.log.warn({ ...context }, 'report counting delayed: store unreachable');
        else if (!(error instanceof BatchRetrying)) this.deps.log.error({ err: error, ...context }, 'report counting failed');
      })
      .finally(() => this.inFlight.delete(running));
    this.inFlight.add(running);
    return running;
  }

  private async countContact({ interaction, created }: { interaction: Interaction; created: boolean }): Promise<void> {
    const { facts, fcr } = contactFacts(interaction, this.deps.rules);
    // All of a contact's facts go into the same batch.
    await Promise.all([...facts.filter((fact) => fact !== fcr).map((fact) => this.deps.counter.count(fact)), ...(fcr ? [this.deps.counter.countFcr(fcr)] : [])]);
    if (created && interaction.direction === 'inbound') await this.markRepeats(interaction);
  }

  /**
   * Counts again the facts of these interactions (the recount repair passes those changed lately):
   * a node that died with a contact's facts still waiting for their batch (or that failed to count
   * them) left them out, and the contact may never change again. Facts counted before are found
   * marked; returns how many were missing.
   */
  async recount(interactions: AsyncIterable<Interaction>): Promise<number> {
    const counts: Array<Promise<boolean>> = [];
    for await (const interaction of interactions) {
      const { facts, fcr } = contactFacts(interaction, this.deps.rules);
      for (const fact of facts) if (fact !== fcr) counts.push(this.deps.counter.count(fact));
      if (fcr) counts.push(this.deps.counter.countFcr(fcr).then(() => false));
    }
    await this.deps.counter.flush();
    // A fact whose batch is being retried here is counted by that batch.
    const settled = await Promise.allSettled(counts);
    const failed = settled.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected' && !(outcome.reason instanceof BatchRetrying));
    if (failed) throw failed.reason;
    return settled.filter((outcome) => outcome.status === 'fulfilled' && outcome.value).length;
  }

  /** A new inbound contact is a repeat of every inbound contact of the customer in the N days before it. */
  private async markRepeats(interaction: Interaction): Promise<void> {
    const createdAt = Date.parse(interaction.createdAt);
    const windowMs = this.deps.settings.fcrDays * 86_400_000;
    const { items } = await this.deps.interactions.getTimeline(interaction.customerId, { limit: 100 });
    for (const earlier of items) {
      const earlierAt = Date.parse(earlier.createdAt);
      if (earlier.id === interaction.id || earlier.direction !== 'inbound' || earlierAt >= createdAt || createdAt - earlierAt > windowMs) continue;
      await this.deps.counter.loseFcr(earlier.id, new Date(createdAt));
    }
  }

  /**
   * Task listener, registered must-succeed (through the task outbox): it returns once the task's
   * facts are written (flushed at once rather than after the batch delay), and fails when they are
   * not, so the outbox delivers the event again; a batch that failed is itself retried, and a
   * redelivery finds its facts claimed.
   */
  async onTaskEvent(event: TaskEvent): Promise<void> {
    const counted = this.countTask(event);
    void this.deps.counter.flush();
    const running = counted.then(
      () => undefined,
      () => undefined,
    );
    this.inFlight.add(running);
    void running.finally(() => this.inFlight.delete(running));
    await counted;
  }

  private async countTask(event: TaskEvent): Promise<void> {
    const interactionId = event.task.interactionId;
    // The link first: a CSAT answer for the contact may arrive while the task's facts wait for their batch.
    if (event.type === 'task_created' && interactionId) await this.deps.repository.linkTask(interactionId, event.task.departmentId);
    const history = event.task.history ?? [event.entry];
    await Promise.all(taskFacts(event.task, history).map((fact) => this.deps.counter.count(fact)));
    if (event.type === 'task_created' && interactionId) await this.deps.counter.loseFcr(interactionId, new Date(event.task.createdAt));
  }

  /**
   * Routing listener (agent states, for occupancy); like the interaction listener, it does not hold
   * routing up. Only the swap of the agent's current state is chained per agent: run side by side,
   * the store could apply this process's later change first and then drop the earlier one as late.
   */
  onRoutingEvent(event: RoutingEvent, at = new Date()): Promise<void> {
    if (event.type !== 'agent_state') return Promise.resolve();
    const { agentId } = event;
    const state = event.snapshot.state;
    const swapped = (this.agentChains.get(agentId) ?? Promise.resolve()).then(() => this.swapAgentState(agentId, state, at));
    const chained = swapped.then(
      () => undefined,
      () => undefined,
    );
    this.agentChains.set(agentId, chained);
    void chained.finally(() => {
      if (this.agentChains.get(agentId) === chained) this.agentChains.delete(agentId);
    });
    this.track(async () => {
      const ended = await swapped;
      if (ended) await this.closeAgentState(ended);
    }, { agentId });
    return Promise.resolve();
  }

  /**
   * Makes `state` (since `at`) the agent's current state in one atomic swap, which hands the state
   * it replaced to exactly one caller in any process; returns that state's finished segment. The
   * same state told again also starts a new segment: its time is on record, so an older change told
   * late cannot overwrite it. Such a late change is dropped: the time between them stays with the
   * state before, so segments never overlap and no time is counted twice.
   */
  private async swapAgentState(agentId: string, state: string, at: Date): Promise<AgentStateDocument | undefined> {
    const swapped = await this.deps.repository.swapAgentNow(agentId, state, at);
    if (swapped === 'unchanged' || !swapped.previous) return undefined;
    const from = new Date(swapped.previous.since);
    return { _id: `${agentId}:${from.getTime()}`, agentId, state: swapped.previous.state, from, to: at };
  }

  /** Stores the finished segment (the raw log a rebuild reads) and counts its time, both with the next batch. */
  private async closeAgentState(segment: AgentStateDocument): Promise<void> {
    await this.deps.counter.logAgentState(segment, agentStateFact(segment, splitByQuarter));
  }

  /**
   * Records one CSAT answer (the survey module calls this when a customer replies in time). One per
   * interaction: a second answer for the same interaction is ignored and reported as not recorded.
   */
  async recordCsatAnswer(input: CsatAnswerInput): Promise<{ recorded: boolean }> {
    const parsed = csatAnswerSchema.safeParse(input);
    if (!parsed.success) throw AppError.validation(parsed.error.issues.map((issue) => ({ field: issue.path.join('.') || '(root)', message: issue.message })));
    const answer = parsed.data;
    const departmentIds = await this.deps.repository.linkedDepartments(answer.interactionId);
    const recorded = await this.deps.repository.saveCsatAnswer({ _id: answer.interactionId, queue: answer.queue, agentId: answer.agentId, channel: answer.channel, score: answer.score, at: answer.at, departmentIds });
    // Counted even when the answer was stored before: finishes a first delivery that died in between.
    await this.deps.counter.count(csatFact({ ...answer, departmentIds }, isSatisfied));
    if (recorded) this.deps.log.info({ interactionId: answer.interactionId, score: answer.score }, 'csat answer recorded');
    return { recorded };
  }

  /** The wallboard's figures of `queue` for the local day of `at`. */
  async queueToday(queue: string, at = new Date()): Promise<QueueToday> {
    await this.settle();
    const { timeZone } = this.deps.settings;
    const day = localDay(at, timeZone);
    const [sums] = await this.deps.repository.readSums([dayId('queue', queue, day)]);
    const kpis = figures(sums ?? emptySums());
    return {
      day,
      timeZone,
      offered: kpis.offered,
      answered: kpis.answered,
      answeredWithinServiceLevel: kpis.answeredWithinThreshold,
      abandoned: kpis.abandoned,
      shortAbandoned: kpis.shortAbandoned,
      overflowed: kpis.overflowed,
      serviceLevelSeconds: this.deps.rules.thresholdSeconds(queue) ?? 0,
      serviceLevel: kpis.serviceLevel,
      serviceLevelAnswered: kpis.serviceLevelAnswered,
      asaSeconds: kpis.asaSeconds,
      abandonmentRate: kpis.abandonmentRate,
      longestWaitSeconds: kpis.longestWaitSeconds,
    };
  }
}
