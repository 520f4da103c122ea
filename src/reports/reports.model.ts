import { Schema, type Connection, type Model } from 'mongoose';
import { sumFields, type Sums } from './kpis';

/**
 * One bucket of one dimension key: `kind` q is a 15-minute bucket (`_id` `queue:general:q:2026-11-27T01:15Z`,
 * by UTC start), d a local day in the reports time zone (`queue:general:d:2026-11-27`). Every read is
 * by `_id` (FerretDB serves only `_id` equality from an index); the wallboard reads today's d bucket.
 */
export interface RollupDocument extends Partial<Sums> {
  _id: string;
  dim: string;
  key: string;
  kind: 'q' | 'd';
  /** The bucket's first instant (local midnight for d). */
  start: Date;
}

/** A counted fact (`_id` = its key); inserted before counting, so a duplicate key means "already counted". */
export interface MarkDocument {
  _id: string;
  at: Date;
  /** For FCR facts: where it was counted, so a later repeat contact is counted in the same place. */
  parts?: Array<{ at: Date; targets: Array<{ dim: string; key: string }> }>;
  /**
   * For FCR marks: when the contact lost first-contact resolution (a repeat contact, a follow-up
   * task). A loss before the FCR fact is counted leaves a bare mark (no `parts`) that the fact completes.
   */
  lostAt?: Date;
  /** The batch that claimed it (`<node>:<seq>`): a retry of that batch, or its repair, knows the claim is its own. */
  b?: string;
}

/**
 * A batch of facts on its way into the rollups, written before its marks and dropped once its sums
 * are in; one left behind (a node died, the database went away) is finished by the repair.
 */
export interface BatchJournalDocument {
  _id: string;
  at: Date;
  facts: Array<{ key: string; parts: Array<{ at: Date; targets: Array<{ dim: string; key: string }>; inc: Record<string, number>; maxWaitMs?: number }> }>;
}

/** The keys seen per dimension (queues, agents, departments…), so a report can list them without a scan of rollups. */
export interface KeyDocument {
  _id: string;
  dim: string;
  key: string;
}

/** Raw log of agent states (routing keeps only the current one, in Redis): one document per finished state (a state told again continues in a new one). */
export interface AgentStateDocument {
  _id: string;
  agentId: string;
  state: string;
  from: Date;
  to: Date;
}

/**
 * The state each agent is in now and since when (our clock), to close its segment on the next change.
 * Kept in Redis (one hash per agent, swapped by a script), not in a collection: it changes twice per call.
 */
export interface AgentNow {
  state: string;
  since: Date;
}

/** A CSAT answer, one per interaction, with where it counts (the raw log the rebuild reads). */
export interface CsatAnswerDocument {
  _id: string;
  queue?: string;
  agentId?: string;
  channel: string;
  score: number;
  at: Date;
  departmentIds: string[];
}

/** Departments that received follow-up tasks filed from an interaction (CSAT is credited to them too). */
export interface TaskLinkDocument {
  _id: string;
  departmentIds: string[];
}

const rollupSchema = new Schema<RollupDocument>(
  {
    _id: { type: String, required: true },
    dim: { type: String, required: true },
    key: { type: String, required: true },
    kind: { type: String, required: true },
    start: { type: Date, required: true },
    ...Object.fromEntries(sumFields.map((field) => [field, Number])),
    maxWaitMs: Number,
  },
  { versionKey: false },
);

const markSchema = new Schema<MarkDocument>({ _id: { type: String, required: true }, at: { type: Date, required: true }, parts: Schema.Types.Mixed, lostAt: Date, b: String }, { versionKey: false });
const keySchema = new Schema<KeyDocument>({ _id: { type: String, required: true }, dim: String, key: String }, { versionKey: false });
const agentStateSchema = new Schema<AgentStateDocument>({ _id: { type: String, required: true }, agentId: String, state: String, from: Date, to: Date }, { versionKey: false });
const csatSchema = new Schema<CsatAnswerDocument>(
  { _id: { type: String, required: true }, queue: String, agentId: String, channel: String, score: Number, at: Date, departmentIds: { type: [String], default: [] } },
  { versionKey: false },
);
const taskLinkSchema = new Schema<TaskLinkDocument>({ _id: { type: String, required: true }, departmentIds: { type: [String], default: [] } }, { versionKey: false });

export function reportModels(connection: Connection) {
  const model = <T>(name: string, schema: Schema<T>, collection: string): Model<T> => (connection.models[name] as Model<T> | undefined) ?? connection.model<T>(name, schema, collection);
  return {
    Rollup: model('ReportRollup', rollupSchema, 'report_rollups'),
    Mark: model('ReportMark', markSchema, 'report_marks'),
    Key: model('ReportKey', keySchema, 'report_keys'),
    AgentState: model('ReportAgentState', agentStateSchema, 'report_agent_states'),
    CsatAnswer: model('ReportCsatAnswer', csatSchema, 'report_csat_answers'),
    TaskLink: model('ReportTaskLink', taskLinkSchema, 'report_task_links'),
  };
}
export type ReportModels = ReturnType<typeof reportModels>;
