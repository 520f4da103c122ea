import { runChaos, type ChaosResult } from '../../bench/chaos/harness';
import { chaosMarkdown } from '../../bench/chaos/report';

/*
 * The short chaos run (bench/chaos, `npm run chaos` for the long one): two app nodes as child
 * processes on a private Redis (append-only file) and FerretDB, SMS, calls, emails and task changes
 * at a low fixed rate through the real edges while Redis, FerretDB and one node are killed (SIGKILL)
 * in turn and restarted, and Redis once restarted empty. Nothing acknowledged may be lost or stored
 * twice, nothing sent twice, every waiting contact waits again, every due SLA timer fires.
 */
describe('chaos (short): Redis, FerretDB and a node killed in turn under traffic', () => {
  let result: ChaosResult;

  beforeAll(async () => {
    result = await runChaos({
      rate: 4,
      baselineSeconds: 4,
      outageSeconds: 4,
      afterSeconds: 6,
      drainSeconds: 15,
      settleSeconds: 15,
      recoveryTimeoutSeconds: 30,
      slaMinutes: 1,
      slaScale: 0.1,
      slaGraceSeconds: 5,
      progress: process.env.CHAOS_PROGRESS === '1' ? (line) => process.stderr.write(`[chaos] ${line}\n`) : undefined,
    });
    if (!result.pass) process.stderr.write(chaosMarkdown(result));
  }, 240_000);

  it('when contacts arrive during each fault, then every acknowledged one is stored exactly once', () => {
    expect(result.totals.acknowledged).toBeGreaterThan(0);
    expect(result.phases.map((phase) => [phase.phase, phase.contacts.lost, phase.contacts.duplicated])).toEqual(result.phases.map((phase) => [phase.phase, 0, 0]));
  });

  it('when tasks notify customers across the faults, then no SMS or email is sent twice', () => {
    expect(result.totals.smsSent + result.totals.emailsSent).toBeGreaterThan(0);
    expect({ sms: result.totals.smsSentTwice, email: result.totals.emailsSentTwice }).toEqual({ sms: 0, email: 0 });
  });

  it('when the faults are over, then every check passes: all acknowledged, waiting again, SLA timers fired, recovered', () => {
    expect(result.checks.filter((check) => !check.pass).map((check) => `${check.name}: ${check.detail}`)).toEqual([]);
  });
});
