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

parentPort?.on('message', (request: ParseRequest) => {
  digestEmail(request.raw, request.limits)
    .then((outcome) => parentPort!.postMessage({ id: request.id, outcome }))
    .catch(() => parentPort!.postMessage({ id: request.id, outcome: { mail: null, flags: ['unparseable'] } }));
});
