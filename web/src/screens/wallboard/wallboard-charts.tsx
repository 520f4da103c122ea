import { useCallback, useEffect, useRef, useState } from 'react';
import { Chart } from '../../components/charts';
import { useI18n } from '../../i18n';
import { api, query } from '../../lib/api';
import { percent, shortDuration, timeOfDay } from '../../lib/format';
import type { Realtime } from '../../lib/realtime';
import type { ReportRow } from '../../lib/types';

interface Report {
  timeZone: string;
  from: string;
  to: string;
  items: ReportRow[];
}

interface Slot {
  start: string;
  offered: number;
  answered: number;
  abandoned: number;
  serviceLevel: number | null;
  asaSeconds: number | null;
  csatPercent: number | null;
}

const hourMs = 3600_000;
/** Reports are rollups, not a live feed: re-read at most this often while figures move. */
const refreshMs = 30_000;

const num = (value: unknown) => (typeof value === 'number' ? value : 0);

/** Today's hours across the chosen queues, with the KPI rules of docs/kpis.md applied to the sums. */
export function slotsOf(report: Report, queue: string): Slot[] {
  const byStart = new Map<string, ReportRow[]>();
  for (const row of report.items) {
    if (queue && row.queue !== queue) continue;
    const key = new Date(row.start).toISOString();
    byStart.set(key, [...(byStart.get(key) ?? []), row]);
  }
  const slots: Slot[] = [];
  for (let at = Date.parse(report.from); at < Date.parse(report.to); at += hourMs) {
    const start = new Date(at).toISOString();
    const rows = byStart.get(start) ?? [];
    const sum = (column: string) => rows.reduce((total, row) => total + num(row[column]), 0);
    const weighted = (column: string, weight: string) => rows.reduce((total, row) => total + num(row[column]) * num(row[weight]), 0);
    const answered = sum('answered');
    const abandoned = sum('abandoned');
    const csatAnswers = sum('csatAnswers');
    slots.push({
      start,
      offered: sum('offered'),
      answered,
      abandoned,
      // SL = answered within T ÷ (answered + abandoned); nothing to divide by is a gap, not 0 %.
      serviceLevel: answered + abandoned > 0 ? sum('answeredWithinThreshold') / (answered + abandoned) : null,
      asaSeconds: answered > 0 ? weighted('asaSeconds', 'answered') / answered : null,
      csatPercent: csatAnswers > 0 ? weighted('csatPercent', 'csatAnswers') / csatAnswers : null,
    });
  }
  return slots;
}

/** Today's volume and service level by hour, and the ASA and CSAT trend, from the reports API. */
export function WallboardCharts({ realtime, day, queues }: { realtime: Realtime; day: string | undefined; queues: string[] }) {
  const { t, locale } = useI18n();
  const [report, setReport] = useState<Report | null>(null);
  const [failed, setFailed] = useState(false);
  const [queue, setQueue] = useState('');
  const lastLoad = useRef(0);
  const pending = useRef<number | null>(null);

  const load = useCallback(async () => {
    if (!day) return;
    lastLoad.current = Date.now();
    try {
      setReport(await api<Report>('GET', `/api/reports/queues${query({ from: day, to: day, interval: 'hour' })}`));
      setFailed(false);
    } catch {
      setFailed(true);
    }
  }, [day]);

  useEffect(() => {
    void load();
    // A burst of queue changes becomes one read, at most every refreshMs.
    const nudge = () => {
      if (pending.current !== null) return;
      const wait = Math.max(0, lastLoad.current + refreshMs - Date.now());
      pending.current = window.setTimeout(() => {
        pending.current = null;
        void load();
      }, wait);
    };
    const stops = [realtime.on('queue_snapshot', nudge), realtime.on('resync', () => void load())];
    const timer = window.setInterval(() => void load(), 5 * 60_000);
    return () => {
      stops.forEach((stop) => stop());
      window.clearInterval(timer);
      if (pending.current !== null) window.clearTimeout(pending.current);
      pending.current = null;
    };
  }, [realtime, load]);

  const slots = report ? slotsOf(report, queue) : [];
  const labels = slots.map((slot) => timeOfDay(slot.start, locale));
  return (
    <section className="card charts" data-testid="wallboard-charts" aria-labelledby="charts-title">
      <header className="row">
        <h2 id="charts-title">{t('charts.title')}</h2>
        <span className="spacer" />
        <select aria-label={t('wallboard.queue')} value={queue} onChange={(event) => setQueue(event.target.value)}>
          <option value="">{t('charts.allQueues')}</option>
          {queues.map((name) => (
            <option key={name} value={name}>
              {name}
            </option>
          ))}
        </select>
      </header>
      {failed && <p className="muted small">{t('charts.unavailable')}</p>}
      {report && (
        <div className="chart-grid">
          <Chart
            testId="chart-volume"
            title={t('charts.volume')}
            labels={labels}
            series={[
              { label: t('charts.offered'), color: '#9db4e6', kind: 'bar', values: slots.map((slot) => slot.offered) },
              { label: t('charts.abandoned'), color: '#e38b80', kind: 'bar', values: slots.map((slot) => slot.abandoned) },
              { label: t('wallboard.serviceLevel'), color: '#1d7a46', kind: 'line', axis: 'right', values: slots.map((slot) => slot.serviceLevel) },
            ]}
            rightMax={1}
            rightFormat={(value) => percent(value)}
          />
          <Chart
            testId="chart-trend"
            title={t('charts.trend')}
            labels={labels}
            series={[
              { label: t('wallboard.asa'), color: '#6b3fb8', kind: 'line', values: slots.map((slot) => slot.asaSeconds) },
              { label: t('charts.csat'), color: '#c07a00', kind: 'line', axis: 'right', values: slots.map((slot) => slot.csatPercent) },
            ]}
            leftFormat={(value) => shortDuration(value)}
            rightMax={1}
            rightFormat={(value) => percent(value)}
          />
        </div>
      )}
    </section>
  );
}
