import type { Interaction, InteractionService } from '../interactions';
import { accumulate } from './buckets';
import { contactFacts, type ContactRules } from './contact-facts';
import { reportBatchesRepair } from './fact-counter';
import { agentStateFact, csatFact, repeatFact, type CsatAnswer, type Fact } from './facts';
import { nextDay, splitByQuarter, startOfLocalDay } from './intervals';
import { isSatisfied } from './kpis';
import type { RawLogReader } from './raw-log.reader';
import type { MarkDocument } from './reports.model';
import type { ReportsRepository } from './reports.repository';
import type { ReportsSettings } from './reports.service';
import { taskFacts } from './task-facts';

export interface RebuildResult {
  from: Date;
  to: Date;
  interactions: number;
  tasks: number;
  csatAnswers: number;
  agentStates: number;
  facts: number;
  buckets: number;
}

/**
 * Recomputes the rollups of whole local days from the raw log (interactions, tasks, CSAT answers,
 * agent states) with the same fact functions the live listeners use, then replaces the stored
 * buckets of those days and marks every fact counted. Meant for closed days (a fix, a changed
 * definition, a lost write): live events for the same days while it runs may be lost.
 */
export class RebuildService {
  constructor(
    private readonly deps: {
      repository: ReportsRepository;
      raw: RawLogReader;
      interactions: InteractionService;
      rules: ContactRules;
      settings: ReportsSettings;
    },
  ) {}

  async rebuild(range: { fromDay: string; toDay: string }, progress: (message: string) => void = () => undefined): Promise<RebuildResult> {
    const { repository, raw, rules, settings } = this.deps;
    const from = startOfLocalDay(range.fromDay, settings.timeZone);
    const to = startOfLocalDay(nextDay(range.toDay), settings.timeZone);
    const inRange = (fact: Fact): Fact => ({ ...fact, parts: fact.parts.filter((part) => part.at >= from && part.at < to) });
    const facts: Fact[] = [];
    const keep = (fact: Fact) => {
      const kept = inRange(fact);
      if (kept.parts.length) facts.push(kept);
    };
    progress(`rebuilding ${range.fromDay} … ${range.toDay} (${settings.timeZone}): ${from.toISOString()} – ${to.toISOString()}`);
    // Batches left half written are finished first: once their buckets are replaced, a later repair
    // of such a batch would add its sums to buckets that count them already.
    const finished = await reportBatchesRepair(repository, settings.timeZone, { staleMs: 0 }).run();
    if (finished) progress(`report batches left half written, finished first: ${finished}`);

    const withTasks = await raw.tasksByInteraction();
    const answers = await repository.csatAnswersBetween(from, to);
    const answered = new Set(answers.map((answer) => answer._id));
    const lost = new Set<string>();
    const timelines = new Map<string, Interaction[]>();
    let interactions = 0;
    for await (const interaction of raw.interactionsTouching(from, to)) {
      interactions += 1;
      const derived = contactFacts(interaction, rules);
      derived.facts.forEach(keep);
      if (derived.fcr && (withTasks.has(interaction.id) || (await this.repeated(interaction, timelines)))) {
        keep(repeatFact(derived.fcr));
        lost.add(interaction.id);
      }
      const csat = this.unrecordedCsat(interaction, answered, withTasks.get(interaction.id) ?? []);
      if (csat && csat.at >= from && csat.at < to) {
        // The survey recorded it on the interaction but its report listener failed: count it now, and keep it.
        await repository.saveCsatAnswer({ _id: csat.interactionId, ...csat });
        answers.push({ _id: csat.interactionId, ...csat });
      }
      if (interactions % 500 === 0) progress(`  ${interactions} interactions read`);
    }
    progress(`interactions: ${interactions}`);

    let tasks = 0;
    for await (const task of raw.tasksTouching(from, to)) {
      tasks += 1;
      taskFacts(task).forEach(keep);
    }
    progress(`tasks: ${tasks}`);

    // Departments from the tasks in the log, not from the link stored with the answer: that link may
    // have been written after the answer was recorded.
    for (const answer of answers) keep(csatFact({ ...answer, interactionId: answer._id, at: new Date(answer.at), departmentIds: withTasks.get(answer._id) ?? answer.departmentIds ?? [] }, isSatisfied));
    progress(`csat answers: ${answers.length}`);

    const states = await repository.agentStatesOverlapping(from, to);
    for (const state of states) {
      const fact = agentStateFact({ ...state, from: new Date(state.from), to: new Date(state.to) }, splitByQuarter);
      if (fact) keep(fact);
    }
    progress(`agent states: ${states.length}`);

    const buckets = [...accumulate(facts, settings.timeZone).values()];
    const deleted = await repository.deleteBuckets(from, to);
    await repository.replaceBuckets(buckets);
    progress(`buckets: ${deleted} dropped, ${buckets.length} written`);

    const marks: MarkDocument[] = [];
    const fcrMarks = new Map<string, MarkDocument>();
    for (const fact of facts) {
      if (fact.key.startsWith('fcr:')) fcrMarks.set(fact.key, { _id: fact.key, at: fact.parts[0].at, parts: fact.parts.map((part) => ({ at: part.at, targets: part.targets })) });
      else marks.push({ _id: fact.key, at: fact.parts[0].at });
    }
    for (const id of lost) fcrMarks.set(`fcr:${id}`, { ...(fcrMarks.get(`fcr:${id}`) ?? { _id: `fcr:${id}`, at: from }), lostAt: from });
    await repository.claimMany(marks);
    // Written whole, not only when missing: a live loss may have left a bare FCR mark that this counted.
    await repository.putFcrMarks([...fcrMarks.values()]);
    const keys = new Set(facts.flatMap((fact) => fact.parts.flatMap((part) => part.targets.map((target) => `${target.dim}\u0000${target.key}`))));
    for (const entry of keys) {
      const [dim, key] = entry.split('\u0000');
      await repository.rememberKey(dim as Parameters<ReportsRepository['rememberKey']>[0], key);
    }
    progress(`done: ${facts.length} facts`);
    return { from, to, interactions, tasks, csatAnswers: answers.length, agentStates: states.length, facts: facts.length, buckets: buckets.length };
  }

  /** A CSAT answer the survey module wrote into the log (`csat_answered`) that never reached `recordCsatAnswer`. */
  private unrecordedCsat(interaction: Interaction, recorded: Set<string>, departmentIds: string[]): CsatAnswer | undefined {
    if (recorded.has(interaction.id)) return undefined;
    const entry = interaction.entries?.find((candidate) => candidate.kind === 'system' && candidate.data?.event === 'csat_answered' && typeof candidate.data.score === 'number');
    if (!entry) return undefined;
    return {
      interactionId: interaction.id, channel: interaction.channel, score: entry.data!.score as number, at: new Date(entry.at), departmentIds,
      ...(interaction.queue ? { queue: interaction.queue } : {}), ...(interaction.agentId ? { agentId: interaction.agentId } : {}),
    };
  }

  /** Whether the customer started another inbound contact within N days after this one. */
  private async repeated(interaction: Interaction, timelines: Map<string, Interaction[]>): Promise<boolean> {
    let items = timelines.get(interaction.customerId);
    if (!items) {
      items = (await this.deps.interactions.getTimeline(interaction.customerId, { limit: 100 })).items;
      timelines.set(interaction.customerId, items);
    }
    const createdAt = Date.parse(interaction.createdAt);
    const windowMs = this.deps.settings.fcrDays * 86_400_000;
    return items.some((item) => {
      const at = Date.parse(item.createdAt);
      return item.id !== interaction.id && item.direction === 'inbound' && at > createdAt && at - createdAt <= windowMs;
    });
  }
}
