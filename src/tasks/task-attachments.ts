import path from 'node:path';
import type { Readable } from 'node:stream';
import { AppError } from '../platform/errors';
import { parseMediaType } from '../platform/http/download';
import type { Principal } from '../platform/http/principal';
import type { Task, TaskAttachment } from './task.contracts';
import type { TaskService } from './task.service';

/** The content-addressed file store (the email channel's AttachmentStore), as tasks use it. */
export interface FileStore {
  put(kind: 'files', content: Buffer): Promise<{ sha256: string; size: number; path: string }>;
  open(relative: string): Promise<{ stream: Readable; size: number } | null>;
}

export const maxTaskAttachmentBytes = 10 * 1024 * 1024;
// Attachments live inside the task document; a bound keeps it far from the 16 MB document limit.
const maxAttachmentsPerTask = 50;

/** The store lays files out as `files/<first two hex>/<sha256>`; tasks keep only the digest. */
const storedPath = (sha256: string) => path.join('files', sha256.slice(0, 2), sha256);

/** A filename safe to show and to put in Content-Disposition: no path, no control characters. */
export function cleanFilename(raw: string | undefined): string | null {
  if (!raw) return null;
  let name = raw;
  try {
    // Header values are Latin-1; clients send other scripts percent-encoded.
    name = decodeURIComponent(raw);
  } catch {
    // not encoded: keep as sent
  }
  name = name.replace(/[\u0000-\u001f\u007f]/g, '').split(/[\\/]/).pop()!.trim();
  if (!name || name === '.' || name === '..') return null;
  return name.slice(0, 200);
}

/** Task attachments: bytes in the shared store by their SHA-256, metadata on the task. Same visibility rules as the task. */
export class TaskAttachments {
  constructor(
    private readonly tasks: TaskService,
    private readonly store: FileStore,
  ) {}

  /**
   * `readContent` reads the request body; it runs only after the caller was authenticated (by the
   * route), the headers checked and the task found visible and not full, so nobody makes the server
   * read (or buffer) 10 MB through a task they cannot see.
   */
  async upload(taskId: string, principal: Principal, file: { filename: string | undefined; contentType: string | undefined; readContent: () => Promise<unknown> }): Promise<Task> {
    const filename = cleanFilename(file.filename);
    const contentType = parseMediaType(file.contentType);
    const problems = [];
    if (!filename) problems.push({ field: 'X-Filename', message: 'is required: the file name (percent-encoded when not ASCII)' });
    if (!contentType) problems.push({ field: 'Content-Type', message: 'is required: the media type of the file, e.g. image/jpeg' });
    if (problems.length) throw AppError.validation(problems);
    // Visibility before bytes: nobody fills the disk (or memory) through a task they cannot see.
    const task = await this.tasks.getTask(taskId, principal);
    if (task.attachments.length >= maxAttachmentsPerTask) throw new AppError('conflict', `Task ${task.reference} already has ${maxAttachmentsPerTask} attachments`, { taskId });
    const content = await file.readContent();
    if (!Buffer.isBuffer(content) || content.length === 0) throw AppError.validation([{ field: 'body', message: 'is empty: send the file bytes as the request body' }]);
    const stored = await this.store.put('files', content);
    return this.tasks.addAttachment(taskId, principal, { filename: filename!, contentType: contentType!, size: stored.size, sha256: stored.sha256 });
  }

  /** The attachment and its bytes as a stream, for `sendDownload`. */
  async open(taskId: string, attachmentId: string, principal: Principal): Promise<{ attachment: TaskAttachment; stream: Readable; size: number }> {
    const task = await this.tasks.getTask(taskId, principal);
    const attachment = task.attachments.find((candidate) => candidate.id === attachmentId);
    const stored = attachment ? await this.store.open(storedPath(attachment.sha256)) : null;
    if (!attachment || !stored) throw AppError.notFound('Attachment', attachmentId);
    return { attachment, ...stored };
  }
}
