import type { Connection } from 'mongoose';
import { toInteraction, type Interaction } from '../interactions';
import type { Task, TaskHistoryEntry } from '../tasks';

type StoredInteraction = Parameters<typeof toInteraction>[0];

const iso = (value: unknown) => (value instanceof Date ? value.toISOString() : typeof value === 'string' ? new Date(value).toISOString() : undefined);

/**
 * Read-only access to the raw log for the rebuild, a batch job: the interactions and tasks
 * collections, by time range. Neither module offers a range scan (their hot paths never need one),
 * so this reader goes to the collections directly and maps documents to the modules' public shapes
 * (`toInteraction`, the `Task` contract). It never writes there.
 */
export class RawLogReader {
  /** `readConversation`: the whole conversation by its id, however many parts it is stored in (the interaction module's). */
  constructor(
    private readonly connection: Connection,
    private readonly readConversation: (id: string) => Promise<Interaction>,
  ) {}

  /**
   * Interactions created before `to` and changed at or after `from`: every one that can have a fact
   * in [from, to). A conversation stored in several parts (see interactions/interaction-parts.ts) is
   * yielded once, whole, read through the interaction module: any of its parts that touches the range
   * brings it (a rollover leaves the earlier parts' `updatedAt` as it was). One stored whole is
   * yielded from the scan itself.
   */
  async *interactionsTouching(from: Date, to: Date): AsyncGenerator<Interaction> {
    const cursor = this.connection.collection('interactions').find({ createdAt: { $lt: to }, updatedAt: { $gte: from } }).batchSize(200);
    const chained = new Set<string>();
    for await (const doc of cursor) {
      const stored = doc as unknown as StoredInteraction;
      if (!stored.continuesFrom && !stored.continuedIn) {
        yield toInteraction(stored);
        continue;
      }
      const id = stored.conversationId ?? stored._id;
      if (chained.has(id)) continue;
      chained.add(id);
      yield await this.readConversation(id);
    }
  }

  /** Tasks created before `to` and changed at or after `from`. */
  async *tasksTouching(from: Date, to: Date): AsyncGenerator<Task> {
    const cursor = this.connection.collection('tasks').find({ createdAt: { $lt: to }, updatedAt: { $gte: from } }).batchSize(200);
    for await (const doc of cursor) yield toTaskShape(doc);
  }

  /**
   * Per interaction that follow-up tasks were filed from (any time), the departments they went to:
   * those contacts were not resolved at first contact, and their CSAT counts for those departments.
   */
  async tasksByInteraction(): Promise<Map<string, string[]>> {
    const links = new Map<string, string[]>();
    const cursor = this.connection.collection('tasks').find({ interactionId: { $exists: true } }, { projection: { interactionId: 1, departmentId: 1, history: 1 } });
    for await (const doc of cursor) {
      if (typeof doc.interactionId !== 'string') continue;
      // The department it was filed to (before any forward), as the live listener saw it on task_created.
      const forward = (Array.isArray(doc.history) ? doc.history : []).find((entry: Record<string, any>) => entry.action === 'forwarded' && typeof entry.data?.fromDepartmentId === 'string');
      const department = String(forward?.data.fromDepartmentId ?? doc.departmentId);
      links.set(doc.interactionId, [...new Set([...(links.get(doc.interactionId) ?? []), department])]);
    }
    return links;
  }
}

/** The fields of the `Task` contract the turnaround facts read. */
function toTaskShape(doc: Record<string, any>): Task {
  const history: TaskHistoryEntry[] = (Array.isArray(doc.history) ? doc.history : []).map((entry: Record<string, any>) => ({
    id: String(entry._id ?? entry.id),
    at: iso(entry.at)!,
    action: entry.action,
    actor: entry.actor,
    ...(entry.fromStatus ? { fromStatus: entry.fromStatus } : {}),
    ...(entry.toStatus ? { toStatus: entry.toStatus } : {}),
    ...(entry.data ? { data: entry.data } : {}),
  }));
  return {
    ...(doc as Task),
    id: String(doc._id),
    createdAt: iso(doc.createdAt)!,
    updatedAt: iso(doc.updatedAt)!,
    dueAt: iso(doc.dueAt)!,
    acceptedAt: iso(doc.acceptedAt),
    resolvedAt: iso(doc.resolvedAt),
    breachedAt: iso(doc.breachedAt),
    history,
  };
}
