import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../platform/logger';
import { digestEmail, defaultDigestLimits, type DigestLimits, type DigestOutcome } from './email-digest';
import type { ParseRequest } from './parse-worker';

/**
 * Parses and sanitizes inbound email off the main thread, so one hostile message cannot hold the
 * event loop that serves every agent's socket and every webhook. A parse that passes its time
 * budget has its worker terminated (a synchronous regex or parser loop cannot be interrupted any
 * other way) and answers `parse_timeout`: the caller keeps the message raw, flagged.
 *
 * Written on node:worker_threads rather than piscina: we need one thing piscina does not give
 * directly (terminate the thread of one task past a deadline and report it as a result, not an
 * error), the pool is ~100 lines, and it adds no dependency to the SMTP edge.
 */
export interface ParsePoolOptions {
  workers: number;
  timeoutMs: number;
  /** Messages up to this size are digested on the main thread (the hop costs more than the parse). */
  inlineBytes: number;
  limits?: DigestLimits;
  log: Logger;
}

interface Task {
  raw: Buffer;
  resolve(outcome: DigestOutcome): void;
}

interface Slot {
  worker: Worker;
  busy?: { id: number; task: Task; timer: NodeJS.Timeout };
}

// Headroom for a 25 MB message parsed into strings and attachment buffers; past it the thread dies, not the node.
const workerHeapMb = 512;

export class ParsePool {
  private readonly slots: Slot[] = [];
  private readonly waiting: Task[] = [];
  private nextId = 1;
  private closed = false;
  private readonly limits: DigestLimits;

  constructor(private readonly options: ParsePoolOptions) {
    this.limits = options.limits ?? defaultDigestLimits;
  }

  /** Digests one email: inline when small, else in a worker within the time budget. Never rejects. */
  async digest(raw: Buffer): Promise<DigestOutcome> {
    if (raw.length <= this.options.inlineBytes) return digestEmail(raw, this.limits).catch(() => ({ mail: null, flags: ['unparseable'] }));
    if (this.closed) return { mail: null, flags: ['unparseable', 'parse_unavailable'] };
    return new Promise((resolve) => {
      this.waiting.push({ raw, resolve });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const task of this.waiting.splice(0)) task.resolve({ mail: null, flags: ['unparseable', 'parse_unavailable'] });
    await Promise.all(this.slots.splice(0).map(async (slot) => {
      if (slot.busy) {
        clearTimeout(slot.busy.timer);
        slot.busy.task.resolve({ mail: null, flags: ['unparseable', 'parse_unavailable'] });
      }
      await slot.worker.terminate();
    }));
  }

  private dispatch(): void {
    while (this.waiting.length) {
      let slot = this.slots.find((candidate) => !candidate.busy);
      if (!slot && this.slots.length < this.options.workers) {
        slot = { worker: this.spawn() };
        this.slots.push(slot);
      }
      if (!slot) return;
      const task = this.waiting.shift()!;
      const id = this.nextId++;
      const timer = setTimeout(() => this.expire(slot!, id), this.options.timeoutMs);
      slot.busy = { id, task, timer };
      const request: ParseRequest = { id, raw: task.raw, limits: this.limits };
      slot.worker.postMessage(request);
    }
  }

  private spawn(): Worker {
    const worker = startWorker();
    worker.on('message', (message: { id: number; outcome: DigestOutcome }) => {
      const slot = this.slots.find((candidate) => candidate.worker === worker);
      if (!slot?.busy || slot.busy.id !== message.id) return;
      clearTimeout(slot.busy.timer);
      const { task } = slot.busy;
      slot.busy = undefined;
      task.resolve(message.outcome);
      this.dispatch();
    });
    // A crash (out of memory, a bug) loses only this thread: its message is kept raw, flagged.
    worker.on('error', (error) => this.options.log.warn({ err: { name: error.name, message: error.message } }, 'email parse worker failed'));
    worker.on('exit', () => this.replace(worker, ['unparseable', 'parse_failed']));
    return worker;
  }

  private expire(slot: Slot, id: number): void {
    if (slot.busy?.id !== id) return;
    this.options.log.warn({ timeoutMs: this.options.timeoutMs }, 'email parse passed its time budget; worker terminated');
    this.replace(slot.worker, ['unparseable', 'parse_timeout']);
    void slot.worker.terminate();
  }

  /** Drops a dead or terminated worker, answering its task with `flags`; the next dispatch spawns a fresh one. */
  private replace(worker: Worker, flags: string[]): void {
    const index = this.slots.findIndex((candidate) => candidate.worker === worker);
    if (index < 0) return;
    const [slot] = this.slots.splice(index, 1);
    worker.removeAllListeners('message');
    worker.removeAllListeners('exit');
    worker.on('error', () => undefined);
    if (slot.busy) {
      clearTimeout(slot.busy.timer);
      slot.busy.task.resolve({ mail: null, flags });
    }
    if (!this.closed) this.dispatch();
  }
}

/**
 * Built code runs `parse-worker.js` directly. From TypeScript sources (jest, ts-node) the thread
 * first installs a transpile-only `.ts` loader, since a worker does not inherit the parent's one.
 */
function startWorker(): Worker {
  const resourceLimits = { maxOldGenerationSizeMb: workerHeapMb };
  if (__filename.endsWith('.js')) return new Worker(path.join(__dirname, 'parse-worker.js'), { resourceLimits });
  const entry = path.join(__dirname, 'parse-worker.ts');
  const bootstrap = `
    const fs = require('node:fs');
    const ts = require(${JSON.stringify(require.resolve('typescript'))});
    require.extensions['.ts'] = (module, filename) => {
      const source = fs.readFileSync(filename, 'utf8');
      const output = ts.transpileModule(source, { fileName: filename, compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } });
      module._compile(output.outputText, filename);
    };
    require(${JSON.stringify(entry)});
  `;
  return new Worker(bootstrap, { eval: true, resourceLimits });
}
