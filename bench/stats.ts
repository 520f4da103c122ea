/** Latency distribution of one scenario, in milliseconds. */
export interface LatencySummary {
  samples: number;
  minMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  /** Sequential throughput: one operation at a time, so this is 1000 / mean. */
  opsPerSec: number;
}

/** Nearest-rank percentile of ascending `sorted` (q in 0..1): a value that was actually measured. */
export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) throw new Error('percentile of no samples');
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

const round = (value: number) => Math.round(value * 1000) / 1000;

export function summarize(durationsMs: Float64Array): LatencySummary {
  const sorted = Float64Array.from(durationsMs).sort();
  let total = 0;
  for (const duration of sorted) total += duration;
  const mean = total / sorted.length;
  return {
    samples: sorted.length,
    minMs: round(sorted[0]),
    p50Ms: round(percentile(sorted, 0.5)),
    p90Ms: round(percentile(sorted, 0.9)),
    p99Ms: round(percentile(sorted, 0.99)),
    maxMs: round(sorted[sorted.length - 1]),
    meanMs: round(mean),
    opsPerSec: mean > 100 ? Math.round(100_000 / mean) / 100 : Math.round(1000 / mean),
  };
}

/**
 * One benchmarked operation: `input` and `check` run outside the clock, only `call` is timed.
 * `check` throws when the answer is wrong, so a benchmark never reports the speed of a 404.
 */
export interface Operation<Input, Result> {
  input(iteration: number): Input;
  call(input: Input): Promise<Result>;
  check(input: Input, result: Result): void;
}

export interface Measurement {
  durationsMs: Float64Array;
  /** True when the time budget ran out before `samples` were taken. */
  truncated: boolean;
}

/**
 * Runs up to `warmup` untimed iterations, then up to `samples` timed ones, strictly one after
 * another. `maxSeconds` bounds the whole scenario (a tenth of it for the warm-up), so a store that
 * answers in seconds instead of milliseconds still gives a report, with fewer samples, rather
 * than running for hours.
 */
export async function measure<Input, Result>(
  operation: Operation<Input, Result>,
  options: { warmup: number; samples: number; maxSeconds: number },
): Promise<Measurement> {
  const began = process.hrtime.bigint();
  const elapsedSeconds = () => Number(process.hrtime.bigint() - began) / 1e9;
  let iteration = 0;
  for (; iteration < options.warmup && elapsedSeconds() < options.maxSeconds / 10; iteration += 1) {
    const input = operation.input(iteration);
    operation.check(input, await operation.call(input));
  }
  const durations = new Float64Array(options.samples);
  let taken = 0;
  for (; taken < options.samples && (taken === 0 || elapsedSeconds() < options.maxSeconds); taken += 1) {
    const input = operation.input(iteration + taken);
    const started = process.hrtime.bigint();
    const result = await operation.call(input);
    durations[taken] = Number(process.hrtime.bigint() - started) / 1e6;
    operation.check(input, result);
  }
  return { durationsMs: durations.subarray(0, taken), truncated: taken < options.samples };
}
