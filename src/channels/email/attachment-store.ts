import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';

/**
 * Files named by the SHA-256 of their content under ATTACHMENTS_DIR: a sender's filename never
 * becomes a path, a retried email writes nothing new, and equal files are stored once. Entries keep
 * the relative path, so nodes sharing the folder at different mount points still find the file.
 */
export interface StoredFile {
  sha256: string;
  size: number;
  /** Relative to ATTACHMENTS_DIR, e.g. `eml/ab/ab12….eml` or `files/ab/ab12…`. */
  path: string;
}

export type FileKind = 'eml' | 'files';

export function sha256(content: Buffer): string {
  return createHash('sha256').update(content).digest('hex');
}

// Hashing 25 MB at once holds the event loop for ~60 ms; in 1 MB slices it yields between them.
const hashSliceBytes = 1_000_000;

async function sha256Yielding(content: Buffer): Promise<string> {
  if (content.length <= hashSliceBytes) return sha256(content);
  const hash = createHash('sha256');
  for (let offset = 0; offset < content.length; offset += hashSliceBytes) {
    hash.update(content.subarray(offset, offset + hashSliceBytes));
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return hash.digest('hex');
}

export class AttachmentStore {
  constructor(private readonly root: string) {}

  async put(kind: FileKind, content: Buffer): Promise<StoredFile> {
    const digest = await sha256Yielding(content);
    const relative = path.join(kind, digest.slice(0, 2), kind === 'eml' ? `${digest}.eml` : digest);
    const target = path.join(this.root, relative);
    if (!(await exists(target))) {
      await fs.mkdir(path.dirname(target), { recursive: true });
      // Write then rename: a reader never sees half a file, and two writers of one digest both succeed.
      const temporary = `${target}.${randomBytes(6).toString('hex')}.tmp`;
      await fs.writeFile(temporary, content);
      await fs.rename(temporary, target);
    }
    return { sha256: digest, size: content.length, path: relative };
  }

  /** Reads a stored file back by the relative path recorded on an entry. */
  async read(relative: string): Promise<Buffer> {
    return fs.readFile(this.resolve(relative));
  }

  /** Opens a stored file for streaming (downloads); null when no such file is stored. */
  async open(relative: string): Promise<{ stream: Readable; size: number } | null> {
    const resolved = this.resolve(relative);
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(resolved, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    try {
      const { size } = await handle.stat();
      return { stream: handle.createReadStream(), size };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  private resolve(relative: string): string {
    const resolved = path.resolve(this.root, relative);
    if (!resolved.startsWith(path.resolve(this.root) + path.sep)) throw new Error('path outside the attachment store');
    return resolved;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}
