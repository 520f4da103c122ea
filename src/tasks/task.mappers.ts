import type { Principal } from '../platform/http/principal';
import type { Task, TaskActor, TaskHistoryEntry } from './task.contracts';
import type { StoredAttachment, StoredHistoryEntry, TaskDocument } from './task.model';

const iso = (date: Date | undefined) => (date ? new Date(date).toISOString() : undefined);

export function toHistoryEntry(stored: StoredHistoryEntry): TaskHistoryEntry {
  return {
    id: stored._id,
    at: iso(stored.at)!,
    action: stored.action,
    actor: stored.actor,
    ...(stored.fromStatus ? { fromStatus: stored.fromStatus } : {}),
    ...(stored.toStatus ? { toStatus: stored.toStatus } : {}),
    ...(stored.comment !== undefined ? { comment: stored.comment } : {}),
    ...(stored.visibility ? { visibility: stored.visibility } : {}),
    ...(stored.data ? { data: stored.data } : {}),
    ...(stored.version !== undefined ? { version: stored.version } : {}),
  };
}

function toAttachment(stored: StoredAttachment) {
  return { id: stored._id, filename: stored.filename, contentType: stored.contentType, size: stored.size, sha256: stored.sha256, uploadedBy: stored.uploadedBy, at: iso(stored.at)! };
}

/** The API shape; `withHistory` false for list views (boards stay light). */
export function toTask(stored: TaskDocument, withHistory = true): Task {
  const optional = {
    ownerId: stored.ownerId,
    assigneeId: stored.assigneeId,
    interactionId: stored.interactionId,
    customerChannel: stored.customerChannel,
    warnedAt: iso(stored.warnedAt),
    breachedAt: iso(stored.breachedAt),
    acceptedAt: iso(stored.acceptedAt),
    resolvedAt: iso(stored.resolvedAt),
    rejectedAt: iso(stored.rejectedAt),
    verifiedAt: iso(stored.verifiedAt),
    closedAt: iso(stored.closedAt),
    resolution: stored.resolution,
    rejectionReason: stored.rejectionReason,
  };
  return {
    id: stored._id,
    reference: stored.reference,
    departmentId: stored.departmentId,
    typeCode: stored.typeCode,
    title: stored.title,
    description: stored.description ?? '',
    fields: stored.fields ?? {},
    checklist: stored.checklist ?? [],
    priority: stored.priority,
    status: stored.status,
    createdBy: stored.createdBy,
    customerId: stored.customerId,
    watcherIds: stored.watcherIds ?? [],
    slaMinutes: stored.slaMinutes,
    dueAt: iso(stored.dueAt)!,
    reopenCount: stored.reopenCount ?? 0,
    attachments: (stored.attachments ?? []).map(toAttachment),
    version: stored.version,
    createdAt: iso(stored.createdAt)!,
    updatedAt: iso(stored.updatedAt)!,
    ...(Object.fromEntries(Object.entries(optional).filter(([, value]) => value !== undefined)) as Partial<Task>),
    ...(withHistory ? { history: (stored.history ?? []).map(toHistoryEntry) } : {}),
  };
}

export function actorOf(principal: Principal): TaskActor {
  return { kind: principal.kind === 'api_key' ? 'api_key' : 'user', id: principal.id, name: principal.name };
}

export const systemActor: TaskActor = { kind: 'system', id: 'system', name: 'Switchboard' };
export const customerActor = (customerId: string): TaskActor => ({ kind: 'customer', id: customerId, name: 'Customer' });
