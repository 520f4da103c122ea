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
      // Generous: under the whole suite a node started from the TypeScript sources takes ~15 s.
      recoveryTimeoutSeconds: 45,
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

  const failed = (...names: string[]) => result.checks.filter((check) => names.includes(check.name) && !check.pass).map((check) => `${check.name}: ${check.detail}`);

  it('when the faults are over, then every contact was acknowledged and each fault recovered', () => {
    expect(failed('every contact is acknowledged once the faults are over (senders retry)', 'every fault recovered in time (nodes ready, a new contact stored and queued)', 'no app node died on its own')).toEqual([]);
  });

  it('when Redis, FerretDB or a node died, then every stored contact that was waiting waits again, before the next fault and after the run', () => {
    expect(failed('after each fault, the contacts that were waiting wait again before the next fault', 'every stored contact that was waiting is waiting again (or was handled)')).toEqual([]);
  });

  it('when task SLA timers came due across the faults, then each fired', () => {
    expect(failed('every task SLA timer that came due fired (breach recorded)')).toEqual([]);
  });

  it('when contacts and task changes must cause messages, then none is lost in a fault', () => {
    expect(failed('every message the traffic must cause was sent (email acknowledgements, task notices)')).toEqual([]);
  });

  it('when two nodes count into the report rollups across the faults, then the rollups equal a rebuild from the raw log', () => {
    expect(failed('live report rollups equal a rebuild from the raw log (no count lost with two nodes writing)')).toEqual([]);
  });

  it('then no check of the run is left unasserted', () => {
    expect(result.checks.map((check) => check.name).sort()).toEqual(
      [
        'every acknowledged contact is stored', 'no contact is stored twice', 'no SMS was sent twice', 'no email was sent twice',
        'every contact is acknowledged once the faults are over (senders retry)', 'every fault recovered in time (nodes ready, a new contact stored and queued)', 'no app node died on its own',
        'after each fault, the contacts that were waiting wait again before the next fault', 'every stored contact that was waiting is waiting again (or was handled)',
        'every task SLA timer that came due fired (breach recorded)', 'every message the traffic must cause was sent (email acknowledgements, task notices)',
        'live report rollups equal a rebuild from the raw log (no count lost with two nodes writing)',
      ].sort(),
    );
  });
});
