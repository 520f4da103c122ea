import type { JobsOptions, Queue } from 'bullmq';
import mongoose, { type Model } from 'mongoose';

/**
 * Puts a job back unless its id is still in the queue (waiting, delayed, active, completed or
 * failed): the repairs of issue 13 re-add what MongoDB says is due under the id the normal path
 * uses, so a job that survived is never doubled. Returns 1 when the job was missing, else 0. Two
 * nodes repairing at once may both count it; BullMQ keeps one job per id, so only the count doubles.
 */
export async function restoreJob<Data>(queue: Queue<Data, unknown, string>, name: string, data: Data, options: JobsOptions & { jobId: string }): Promise<number> {
  if (await queue.getJob(options.jobId)) return 0;
  await queue.add(name as never, data as never, options);
  return 1;
}

/**
 * Reads the documents matching `filter` in `_id` order, `batch` at a time, so a repair over a large
 * collection never holds it all in memory and a document written meanwhile is read at most once.
 */
export async function* scanById<Doc extends { _id: string }>(model: Model<Doc>, filter: Record<string, unknown>, options: { batch?: number; projection?: Record<string, 0 | 1> } = {}): AsyncGenerator<Doc> {
  const batch = options.batch ?? 200;
  let after: string | undefined;
  for (;;) {
    // trusted(): sanitizeFilter (platform/mongo.ts) would strip these operators otherwise; they are ours.
    const query = { ...filter, ...(after !== undefined ? { _id: mongoose.trusted({ $gt: after }) } : {}) };
    const page = await model.find(query, options.projection ?? {}).sort({ _id: 1 }).limit(batch).lean<Doc[]>().exec();
    for (const doc of page) yield doc;
    if (page.length < batch) return;
    after = page[page.length - 1]._id;
  }
}

/**
 * `restoreJob` for work MongoDB still holds open although its job failed for good: a job whose tries
 * all fell inside a database outage (its reads or its outcome write failed each time) leaves the
 * record unfinished and a failed job under the id, which `restoreJob` alone would never replace.
 * The failed job is removed and the work re-added; a job that is active meanwhile is left alone.
 */
export async function restoreJobReplacingFailed<Data>(queue: Queue<Data, unknown, string>, name: string, data: Data, options: JobsOptions & { jobId: string }): Promise<number> {
  const existing = await queue.getJob(options.jobId);
  if (existing && (await existing.isFailed())) {
    // Another node may have replaced it already, or a worker taken the replacement: then it stays.
    await existing.remove().catch(() => undefined);
  }
  return restoreJob(queue, name, data, options);
}
