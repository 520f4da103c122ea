/**
 * Small inline-SVG charts for the wallboard: no chart library, readable at a glance, scaled by the
 * viewBox so they fit any column width. `null` values are gaps (an interval with nothing to measure),
 * never zero.
 */

export interface Series {
  label: string;
  color: string;
  values: (number | null)[];
  /** Bars share the left axis; lines may use the right one (e.g. a percentage). */
  kind: 'bar' | 'line';
  axis?: 'left' | 'right';
}

const width = 640;
const height = 180;
const pad = { top: 12, right: 40, bottom: 22, left: 36 };

function niceMax(value: number): number {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  return [1, 2, 2.5, 5, 10].map((step) => step * magnitude).find((candidate) => candidate >= value) ?? value;
}

export function Chart({
  title,
  labels,
  series,
  leftFormat = (value) => String(Math.round(value)),
  rightFormat = (value) => String(Math.round(value)),
  rightMax,
  testId,
}: {
  title: string;
  labels: string[];
  series: Series[];
  leftFormat?: (value: number) => string;
  rightFormat?: (value: number) => string;
  /** Fixed top of the right axis (1 for ratios); otherwise from the data. */
  rightMax?: number;
  testId?: string;
}) {
  const count = Math.max(labels.length, 1);
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const slot = plotW / count;
  const maxOf = (axis: 'left' | 'right') => niceMax(Math.max(0, ...series.filter((s) => (s.axis ?? 'left') === axis).flatMap((s) => s.values.filter((v): v is number => v !== null))));
  const leftMax = maxOf('left');
  const rightTop = rightMax ?? maxOf('right');
  const y = (value: number, axis: 'left' | 'right') => pad.top + plotH - (value / (axis === 'left' ? leftMax : rightTop)) * plotH;
  const bars = series.filter((s) => s.kind === 'bar');
  const barW = Math.max(2, (slot * 0.8) / Math.max(bars.length, 1));
  const every = Math.ceil(count / 12);
  const hasRight = series.some((s) => s.axis === 'right');

  return (
    <figure className="chart" data-testid={testId}>
      <figcaption className="row tight">
        <strong>{title}</strong>
        <span className="spacer" />
        {series.map((s) => (
          <span key={s.label} className="legend small">
            <span className="swatch" style={{ background: s.color }} /> {s.label}
          </span>
        ))}
      </figcaption>
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={title} preserveAspectRatio="none">
        {[0, 0.5, 1].map((fraction) => {
          const at = pad.top + plotH - fraction * plotH;
          return (
            <g key={fraction}>
              <line x1={pad.left} x2={width - pad.right} y1={at} y2={at} className="grid" />
              <text x={pad.left - 4} y={at + 4} textAnchor="end" className="axis">
                {leftFormat(leftMax * fraction)}
              </text>
              {hasRight && (
                <text x={width - pad.right + 4} y={at + 4} textAnchor="start" className="axis">
                  {rightFormat(rightTop * fraction)}
                </text>
              )}
            </g>
          );
        })}
        {bars.map((s, index) =>
          s.values.map((value, slotIndex) =>
            value === null || value <= 0 ? null : (
              <rect
                key={`${s.label}-${slotIndex}`}
                x={pad.left + slotIndex * slot + slot * 0.1 + index * barW}
                y={y(value, 'left')}
                width={barW}
                height={pad.top + plotH - y(value, 'left')}
                fill={s.color}
              >
                <title>{`${labels[slotIndex]} ${s.label}: ${leftFormat(value)}`}</title>
              </rect>
            ),
          ),
        )}
        {series
          .filter((s) => s.kind === 'line')
          .map((s) => {
            const axis = s.axis ?? 'left';
            const format = axis === 'left' ? leftFormat : rightFormat;
            // Consecutive known values join; a gap starts a new run.
            const runs: string[] = [];
            let run: string[] = [];
            s.values.forEach((value, index) => {
              if (value === null) {
                if (run.length) runs.push(run.join(' '));
                run = [];
              } else run.push(`${pad.left + index * slot + slot / 2},${y(value, axis)}`);
            });
            if (run.length) runs.push(run.join(' '));
            return (
              <g key={s.label}>
                {runs.map((points) => (
                  <polyline key={points} points={points} fill="none" stroke={s.color} strokeWidth={2} />
                ))}
                {s.values.map((value, index) =>
                  value === null ? null : (
                    <circle key={index} cx={pad.left + index * slot + slot / 2} cy={y(value, axis)} r={2.5} fill={s.color}>
                      <title>{`${labels[index]} ${s.label}: ${format(value)}`}</title>
                    </circle>
                  ),
                )}
              </g>
            );
          })}
        {labels.map((label, index) =>
          index % every === 0 ? (
            <text key={index} x={pad.left + index * slot + slot / 2} y={height - 6} textAnchor="middle" className="axis">
              {label}
            </text>
          ) : null,
        )}
      </svg>
    </figure>
  );
}
