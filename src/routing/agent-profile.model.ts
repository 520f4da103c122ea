import { Schema, type Connection, type Model } from 'mongoose';

/**
 * One document per agent, keyed by the user id: every read is a primary-key read, the only kind
 * FerretDB's SQLite backend serves from an index. No secondary index is needed.
 */
export interface AgentProfileDocument {
  _id: string;
  /** Skill name → level (0–10). */
  skills: Record<string, number>;
  /** Queues this agent serves; empty means every queue. */
  queues?: string[];
  /** Percent of capacity one contact of a channel takes (voice 100, sms 30, email 20 by default). */
  capacity?: Record<string, number>;
  updatedAt?: Date;
}

const agentProfileSchema = new Schema<AgentProfileDocument>(
  {
    _id: { type: String, required: true },
    skills: { type: Schema.Types.Mixed, default: {} },
    queues: { type: [String], default: undefined },
    capacity: { type: Schema.Types.Mixed, default: undefined },
  },
  { timestamps: { createdAt: false, updatedAt: true }, versionKey: false, minimize: false },
);

export function routingModels(connection: Connection): { AgentProfile: Model<AgentProfileDocument> } {
  return {
    AgentProfile: connection.models.AgentProfile ?? connection.model<AgentProfileDocument>('AgentProfile', agentProfileSchema, 'agent_profiles'),
  };
}
