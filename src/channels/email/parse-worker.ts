import { readlinkSync } from 'node:fs';
import os from 'node:os';
import { parentPort } from 'node:worker_threads';
import { digestEmail, type DigestLimits } from './email-digest';

/**
 * Worker-thread side of the parse pool: digests one email at a time. A message that takes too long
 * is not interrupted here; the pool terminates the whole thread, which is the only way to stop a
 * synchronous parse or sanitize.
 */
export interface ParseRequest {
  id: number;
  raw: Uint8Array;
  limits: DigestLimits;
}

/**
 * Parsing is background work: under a flood of hostile mail the pool's threads would take both cores
 * from the event loop (and the stores), and every request, webhook and socket on the node would wait.
 * On Linux each thread has its own nice value, so this thread lowers only its own priority.
 */
function yieldCpuToTheEventLoop(): void {
  try {
    const threadId = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(threadId) && threadId > 0) os.setPriority(threadId, 19);
  } catch {
    // Not Linux, or not permitted: the pool's time budget still bounds each message.
  }
}

yieldCpuToTheEventLoop();

parentPort?.on('message', (request: ParseRequest) => {
  digestEmail(request.raw, request.limits)
    .then((outcome) => parentPort!.postMessage({ id: request.id, outcome }))
    .catch(() => parentPort!.postMessage({ id: request.id, outcome: { mail: null, flags: ['unparseable'] } }));
});
