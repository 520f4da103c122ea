import path from 'node:path';
import { projectRoot } from '../../src/platform/config';
import { defaultChaos, faultNames, nodeErrors, runChaos, type ChaosOptions, type FaultName } from './harness';
import { chaosMarkdown, writeChaosResults } from './report';

/**
 * `npm run chaos`: two app nodes on a private Redis and FerretDB, traffic through the real edges,
 * and in turn Redis, FerretDB and one node killed with SIGKILL and restarted; then the checks.
 * Writes bench/results/chaos.{json,md}; exits 1 when a check fails.
 */
const usage = `usage: npm run chaos -- [options]

  --rate N              operations per second (default ${defaultChaos.rate}; env CHAOS_RATE)
  --phase-seconds N     traffic after each restart, and the baseline (default ${defaultChaos.afterSeconds}; env CHAOS_PHASE_SECONDS)
  --outage-seconds N    how long each store or node stays dead (default ${defaultChaos.outageSeconds}; env CHAOS_OUTAGE_SECONDS)
  --faults LIST         comma-separated, in order, from ${faultNames.join(', ')} (default all; env CHAOS_FAULTS); none: the baseline only
  --drain-seconds N     retries of refused contacts after the last phase (default ${defaultChaos.drainSeconds})
  --settle-seconds N    checks are repeated until they pass or this passes (default ${defaultChaos.settleSeconds})
  --sla-scale X         SLA_TIME_SCALE of the nodes (default ${defaultChaos.slaScale}: the 1-minute SLA fires after 15 s)
  --keep-logs           keep the node logs even when every check passes
  --tag NAME            write bench/results/chaos-NAME.* instead of chaos.*

Needs a build (npm run build); uses redis-server and .tools/bin/ferretdb (bash scripts/services.sh builds it).`;

class UsageError extends Error {}

function number(raw: string | undefined, name: string, fallback: number): number {
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new UsageError(`${name} must be a positive number, got ${raw}`);
  return value;
}

function faults(raw: string | undefined): FaultName[] {
  if (raw === undefined || raw === '') return [...faultNames];
  if (raw === 'none') return [];
  const list = raw.split(',').map((item) => item.trim()).filter(Boolean);
  const bad = list.filter((item) => !(faultNames as readonly string[]).includes(item));
  if (bad.length) throw new UsageError(`unknown fault ${bad.join(', ')}; choose from ${faultNames.join(', ')}`);
  return list as FaultName[];
}

function parse(argv: string[], env: NodeJS.ProcessEnv): { options: Partial<ChaosOptions>; tag?: string } {
  const flags = new Map<string, string>();
  let keepLogs = false;
  let tag: string | undefined;
  for (let i = 0; i < argv.length; i += 1) {
    const flag = argv[i];
    if (flag === '--help' || flag === '-h') {
      process.stdout.write(`${usage}\n`);
      process.exit(0);
    }
    if (flag === '--keep-logs') {
      keepLogs = true;
      continue;
    }
    const value = argv[++i];
    if (!flag.startsWith('--') || value === undefined) throw new UsageError(`${flag} needs a value`);
    if (flag === '--tag') tag = value.replace(/[^A-Za-z0-9_-]/g, '-');
    else flags.set(flag.slice(2), value);
  }
  const known = new Set(['rate', 'phase-seconds', 'outage-seconds', 'faults', 'drain-seconds', 'settle-seconds', 'sla-scale']);
  for (const key of flags.keys()) if (!known.has(key)) throw new UsageError(`unknown option --${key}`);
  const phaseSeconds = number(flags.get('phase-seconds') ?? env.CHAOS_PHASE_SECONDS, '--phase-seconds', defaultChaos.afterSeconds);
  const slaScale = number(flags.get('sla-scale'), '--sla-scale', defaultChaos.slaScale);
  if (slaScale > 1) throw new UsageError('--sla-scale must be at most 1');
  return {
    tag,
    options: {
      rate: number(flags.get('rate') ?? env.CHAOS_RATE, '--rate', defaultChaos.rate),
      baselineSeconds: phaseSeconds,
      afterSeconds: phaseSeconds,
      outageSeconds: number(flags.get('outage-seconds') ?? env.CHAOS_OUTAGE_SECONDS, '--outage-seconds', defaultChaos.outageSeconds),
      faults: faults(flags.get('faults') ?? env.CHAOS_FAULTS),
      drainSeconds: number(flags.get('drain-seconds'), '--drain-seconds', defaultChaos.drainSeconds),
      settleSeconds: number(flags.get('settle-seconds'), '--settle-seconds', defaultChaos.settleSeconds),
      slaScale,
      keepLogs,
    },
  };
}

async function main(): Promise<void> {
  const { options, tag } = parse(process.argv.slice(2), process.env);
  const result = await runChaos({ ...options, progress: (line) => process.stderr.write(`[chaos] ${line}\n`) });
  const files = writeChaosResults(path.join(projectRoot(), 'bench', 'results'), result, tag ? `chaos-${tag}` : 'chaos');
  process.stdout.write(chaosMarkdown(result));
  process.stderr.write(`[chaos] wrote ${files.map((file) => path.relative(projectRoot(), file)).join(', ')}\n`);
  if (!result.pass) {
    if (result.logsDir) for (const line of nodeErrors(result.logsDir).slice(0, 20)) process.stderr.write(`[chaos] ${line}\n`);
    process.stderr.write(`[chaos] failed checks: ${result.checks.filter((check) => !check.pass).map((check) => check.name).join('; ')}\n`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`[chaos] ${error instanceof UsageError ? `${error.message}\n\n${usage}` : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
