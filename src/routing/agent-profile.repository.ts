import mongoose, { type Connection } from 'mongoose';
import type { Channel } from '../interactions';
import { routingModels, type AgentProfileDocument } from './agent-profile.model';

export interface AgentProfile {
  agentId: string;
  skills: Record<string, number>;
  /** Empty: serves every queue. */
  queues: string[];
  capacity: Record<Channel, number>;
}

/** Percent of an agent's capacity one contact takes: one call fills it, three texts or five emails do not. */
export const defaultCapacity: Record<Channel, number> = { voice: 100, sms: 30, email: 20, web: 30, fax: 20, manual: 20 };

// Profiles change rarely (an admin edits skills) and are read for every candidate of every match,
// so each process keeps them for a few seconds.
const cacheMs = 5_000;
// Up to this many misses are read by id each (indexed); more in one query (FerretDB scans the small
// collection once instead of answering hundreds of round trips).
const byIdMisses = 4;

/** Routing profiles (skills, queues, capacity weights) by agent id, with defaults when absent. */
export class AgentProfileRepository {
  private readonly models;
  private readonly cache = new Map<string, { profile: AgentProfile; at: number }>();

  constructor(connection: Connection) {
    this.models = routingModels(connection);
  }

  async get(agentId: string): Promise<AgentProfile> {
    const cached = this.cache.get(agentId);
    if (cached && Date.now() - cached.at < cacheMs) return cached.profile;
    const stored = await this.models.AgentProfile.findById(agentId).lean<AgentProfileDocument>().exec();
    const profile = toProfile(agentId, stored);
    this.cache.set(agentId, { profile, at: Date.now() });
    return profile;
  }

  /** Many profiles in the order of `agentIds`: cached ones as they are, the misses in one query. */
  async getMany(agentIds: readonly string[]): Promise<AgentProfile[]> {
    const now = Date.now();
    const profiles = new Map<string, AgentProfile>();
    const missing: string[] = [];
    for (const agentId of agentIds) {
      const cached = this.cache.get(agentId);
      if (cached && now - cached.at < cacheMs) profiles.set(agentId, cached.profile);
      else missing.push(agentId);
    }
    if (missing.length > byIdMisses) {
      const stored = await this.models.AgentProfile.find({ _id: mongoose.trusted({ $in: missing }) }).lean<AgentProfileDocument[]>().exec();
      const found = new Map(stored.map((document) => [document._id, document]));
      const at = Date.now();
      for (const agentId of missing) {
        const profile = toProfile(agentId, found.get(agentId) ?? null);
        this.cache.set(agentId, { profile, at });
        profiles.set(agentId, profile);
      }
    } else {
      for (const [index, profile] of (await Promise.all(missing.map((agentId) => this.get(agentId)))).entries()) profiles.set(missing[index], profile);
    }
    return agentIds.map((agentId) => profiles.get(agentId)!);
  }

  async save(profile: { agentId: string; skills?: Record<string, number>; queues?: string[]; capacity?: Partial<Record<Channel, number>> }): Promise<AgentProfile> {
    // A whole-document $set on the primary key: no $setOnInsert, whose empty arrays FerretDB drops.
    await this.models.AgentProfile.updateOne(
      { _id: profile.agentId },
      { $set: { skills: profile.skills ?? {}, queues: profile.queues ?? [], capacity: profile.capacity ?? {} } },
      { upsert: true },
    ).exec();
    this.cache.delete(profile.agentId);
    return this.get(profile.agentId);
  }
}

function toProfile(agentId: string, stored: AgentProfileDocument | null): AgentProfile {
  return {
    agentId,
    skills: stored?.skills ?? {},
    queues: stored?.queues ?? [],
    capacity: { ...defaultCapacity, ...(stored?.capacity ?? {}) },
  };
}
