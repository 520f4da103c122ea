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
    opsPerSec: Math.round(1000 / mean),
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

/** Runs `warmup` untimed iterations, then `samples` timed ones, strictly one after another. */
export async function measure<Input, Result>(
  operation: Operation<Input, Result>,
  options: { warmup: number; samples: number },
): Promise<Float64Array> {
  for (let iteration = 0; iteration < options.warmup; iteration += 1) {
    const input = operation.input(iteration);
    operation.check(input, await operation.call(input));
  }
  const durations = new Float64Array(options.samples);
  for (let iteration = 0; iteration < options.samples; iteration += 1) {
    const input = operation.input(options.warmup + iteration);
    const started = process.hrtime.bigint();
    const result = await operation.call(input);
    durations[iteration] = Number(process.hrtime.bigint() - started) / 1e6;
    operation.check(input, result);
  }
  return durations;
}
