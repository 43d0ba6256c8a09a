/**
 * Runs per day by outcome: a hand-drawn SVG stacked bar chart (a chart library would outweigh the
 * whole page), with the same numbers as a table for screen readers and anyone who wants them exact.
 */
import type { DailyStats, Outcome } from '../api/types';

/** Bar colours; the legend and the table carry the words, so colour is never the only cue. */
export const OUTCOME_COLOURS: Record<Outcome, string> = {
  sent: '#12b76a',
  conditions_not_met: '#98a2b3',
  skipped: '#fdb022',
  failed: '#d92d20',
  cancelled: '#475467',
  suppressed: '#7a5af8',
};
const OUTCOMES = Object.keys(OUTCOME_COLOURS) as Outcome[];

const W = 640;
const H = 160;
const AXIS = 18;

export function RunsChart({ stats }: { stats: DailyStats }) {
  const totals = stats.days.map((d) => OUTCOMES.reduce((n, o) => n + d.counts[o], 0));
  const busiest = Math.max(0, ...totals);
  const max = Math.max(1, busiest);
  const slot = W / stats.days.length;
  const barW = Math.max(4, slot * 0.7);
  const scale = (H - AXIS - 4) / max;
  const all = totals.reduce((a, b) => a + b, 0);
  const summary =
    `Runs per day, ${stats.days[0]?.date} to ${stats.days.at(-1)?.date} (${stats.timezone}): ` +
    `${all} in all; at most ${busiest} a day.`;
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={summary} preserveAspectRatio="none">
        {stats.days.map((d, i) => {
          let y = H - AXIS;
          const x = i * slot + (slot - barW) / 2;
          return (
            <g key={d.date}>
              {OUTCOMES.filter((o) => d.counts[o] > 0).map((o) => {
                const h = d.counts[o] * scale;
                y -= h;
                return <rect key={o} x={x} y={y} width={barW} height={h} fill={OUTCOME_COLOURS[o]} />;
              })}
              <text x={i * slot + slot / 2} y={H - 4} textAnchor="middle" className="chart-axis">
                {d.date.slice(5)}
              </text>
            </g>
          );
        })}
      </svg>
      <figcaption>
        <ul className="legend">
          {OUTCOMES.map((o) => (
            <li key={o}>
              <span className="swatch" style={{ background: OUTCOME_COLOURS[o] }} aria-hidden="true" />
              {o}
            </li>
          ))}
        </ul>
        <details>
          <summary>Runs per day as a table</summary>
          <table className="compact">
            <caption>Runs per day by outcome ({stats.timezone})</caption>
            <thead>
              <tr>
                <th scope="col">Day</th>
                {OUTCOMES.map((o) => (
                  <th key={o} scope="col">
                    {o}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {stats.days.map((d) => (
                <tr key={d.date}>
                  <th scope="row">{d.date}</th>
                  {OUTCOMES.map((o) => (
                    <td key={o}>{d.counts[o]}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      </figcaption>
    </figure>
  );
}
