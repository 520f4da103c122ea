import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ChaosResult } from './harness';

const seconds = (value: number | null | undefined) => (value === null || value === undefined ? 'never' : `${(value / 1000).toFixed(1)} s`);

/** The chaos report as markdown: per fault, then the checks. */
export function chaosMarkdown(result: ChaosResult): string {
  const { machine, options } = result;
  const lines: string[] = [];
  lines.push('# Chaos run', '');
  lines.push(`${result.startedAt} → ${result.finishedAt}. Machine: ${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGb} GB, ${machine.platform}, Node ${machine.node}; load average ${machine.loadAverage.start.toFixed(2)} → ${machine.loadAverage.end.toFixed(2)}.`, '');
  lines.push(
    `**${result.pass ? 'PASS' : 'FAIL'}**: ${result.checks.filter((check) => check.pass).length} of ${result.checks.length} checks pass.`,
    '',
    `Rate ${options.rate} operations/s; baseline ${options.baselineSeconds} s; each fault: ${options.outageSeconds} s down, then ${options.afterSeconds} s of traffic after the restart; drain ${options.drainSeconds} s at most; checks repeated for ${options.settleSeconds} s at most.`,
    '',
  );
  lines.push('| phase | contacts sent | acknowledged | stored | lost | duplicated | unacknowledged | retried | not waiting at phase end / should wait | of these contacts: not waiting after the run | tasks filed (failed) | SLA due / not fired | notices never sent / expected | SMS sent twice | email sent twice | recovery: ready | recovery: new contact queued |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const row of result.phases) {
    const c = row.contacts;
    lines.push(
      `| ${row.title} | ${c.sent} | ${c.acknowledged} | ${c.stored} | ${c.lost} | ${c.duplicated} | ${c.unacknowledged}${c.refusedPermanently ? ` (+${c.refusedPermanently} refused)` : ''} | ${c.retried} | ${row.waitingAtEnd.error ? `? (${row.waitingAtEnd.error})` : `${row.waitingAtEnd.missing} / ${row.waitingAtEnd.expected}`} | ${row.waitingFinal.missing} of ${row.waitingFinal.expected} | ${row.tasks.filed} (${row.tasks.fileFailed}) | ${row.tasks.slaDue} / ${row.tasks.slaNotFired} | ${row.notices.missing} / ${row.notices.expected} | ${row.sentTwice.sms} | ${row.sentTwice.email} | ${row.recovery ? seconds(row.recovery.readyMs) : '–'} | ${row.recovery ? seconds(row.recovery.contactQueuedMs) : '–'} |`,
    );
  }
  const t = result.totals;
  lines.push(
    `| **total** | ${t.sent} | ${t.acknowledged} | ${t.stored} | ${t.lost} | ${t.duplicated} | ${t.unacknowledged}${t.refusedPermanently ? ` (+${t.refusedPermanently} refused)` : ''} | ${t.retried} | | ${t.waitingMissing} of ${t.waitingExpected} | ${t.tasksFiled} | ${t.slaDue} / ${t.slaNotFired} | ${t.noticesMissing} / ${t.noticesExpected} | ${t.smsSentTwice} of ${t.smsSent} | ${t.emailsSentTwice} of ${t.emailsSent} | | |`,
    '',
  );
  lines.push('## Checks', '');
  for (const check of result.checks) lines.push(`- ${check.pass ? '✅' : '❌'} **${check.name}**: ${check.detail}`);
  lines.push('', '## Report rollups', '');
  const { rollups } = result;
  if (rollups.error) lines.push(`Not compared: ${rollups.error}.`);
  else {
    lines.push(`After both nodes stopped, the live rollups of ${rollups.days.fromDay}…${rollups.days.toDay} (${rollups.buckets} buckets) were compared with a rebuild from the raw log (\`npm run reports:rebuild\`'s code): ${rollups.differences.length} fields differ.`);
    if (rollups.differences.length) {
      lines.push('', '| bucket | field | live | rebuilt |', '|---|---|---:|---:|');
      for (const diff of rollups.differences.slice(0, 30)) lines.push(`| ${diff.bucket} | ${diff.field} | ${diff.live} | ${diff.rebuilt} |`);
      if (rollups.differences.length > 30) lines.push(`| … ${rollups.differences.length - 30} more | | | |`);
    }
  }
  lines.push('', '## How it runs', '');
  for (const line of result.setup) lines.push(`- ${line}`);
  lines.push(
    '- Columns: a contact belongs to the phase in which it was first sent (a contact retried into the next phase still counts where it started). *Lost*: acknowledged (HTTP 200 / SMTP 250) but no entry with its external id in MongoDB. *Duplicated*: more than one entry with one external id. *Unacknowledged*: still refused when the drain ended. *Not waiting at phase end*: at the end of the phase (before the next fault), of all contacts stored so far (3 s old or more) with status open or queued, those no queue lists, so each fault is judged before the next hides it. *Not waiting after the run*: the same after the drain, by the phase the contact arrived in. *SLA due / not fired*: tasks whose breach timer came due in that phase (a timer set earlier and lost in a fault counts where it came due), still open at that moment (SLA_TIME_SCALE applied) plus the grace, and those without `breachedAt`. *Notices*: an acknowledgement per acknowledged email (EMAIL_ACKNOWLEDGE) and, per filed task, a notice on filing and one on resolution (found by the task reference in an SMS or email), and how many never left. *Sent twice*: counted in the phase in which the second copy arrived. *Tasks filed (failed)*: filings of the phase, and those that got no 201 (not retried: the API has no idempotency key for a filing). *Recovery*: from the restart to every node\'s `/readyz` answering ready, and to a new text (sent right after the restart, retried) being acknowledged and listed by `GET /api/routing/queues/sms/waiting`.',
  );
  if (result.logsDir) lines.push('', `Node logs of this run: \`${result.logsDir}\`.`);
  return `${lines.join('\n')}\n`;
}

/** Writes `<dir>/<name>.json` and `<dir>/<name>.md`; returns the paths. */
export function writeChaosResults(dir: string, result: ChaosResult, name = 'chaos'): string[] {
  mkdirSync(dir, { recursive: true });
  const json = path.join(dir, `${name}.json`);
  const md = path.join(dir, `${name}.md`);
  writeFileSync(json, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(md, chaosMarkdown(result));
  return [json, md];
}
