import type { HeatmapPanel, LinesPanel, ResultPanel, ResultView, StatsPanel, TablePanel } from './api';

/** Blue (low) → white → orange (high); readable with dark text on every cell. */
function color(v: number, min: number, max: number): string {
  if (max === min) return 'hsl(210 60% 85%)';
  const t = (v - min) / (max - min);
  const hue = t < 0.5 ? 210 : 30;
  const light = 95 - Math.abs(t - 0.5) * 2 * 35;
  return `hsl(${hue} 80% ${light}%)`;
}

function Heatmap({ p }: { p: HeatmapPanel }) {
  const flat = p.values.flat().filter((v): v is number => v !== null);
  const min = Math.min(...flat);
  const max = Math.max(...flat);
  const cw = Math.max(6, Math.min(28, Math.floor(640 / Math.max(1, p.x.length))));
  const ch = Math.max(6, Math.min(20, Math.floor(400 / Math.max(1, p.y.length))));
  const left = 48;
  const top = 8;
  const w = left + cw * p.x.length + 8;
  const h = top + ch * p.y.length + 40;
  const labelEvery = (n: number, size: number) => Math.max(1, Math.ceil(24 / size) * (n > 0 ? 1 : 1));
  const xe = labelEvery(p.x.length, cw);
  const ye = labelEvery(p.y.length, ch);
  return (
    <figure class="panel" aria-labelledby={`h-${p.title}`}>
      <h3 id={`h-${p.title}`}>{p.title}</h3>
      <svg
        width={w}
        height={h}
        role="img"
        aria-label={`${p.title}: ${p.valueLabel} from ${min.toFixed(2)} to ${max.toFixed(2)} over ${p.x.length} ${p.xLabel} by ${p.y.length} ${p.yLabel} values`}
        data-testid="heatmap"
      >
        {p.values.map((row, yi) =>
          row.map((v, xi) =>
            v === null ? null : (
              <rect
                x={left + xi * cw}
                y={top + (p.y.length - 1 - yi) * ch}
                width={cw}
                height={ch}
                fill={color(v, min, max)}
                stroke={
                  p.highlight && p.highlight.x === p.x[xi] && p.highlight.y === p.y[yi] ? '#111' : 'none'
                }
                stroke-width={2}
              >
                <title>{`${p.xLabel} ${p.x[xi]}, ${p.yLabel} ${p.y[yi]}: ${p.valueLabel} ${v.toFixed(3)}`}</title>
              </rect>
            ),
          ),
        )}
        {p.x.map((x, i) =>
          i % xe === 0 ? (
            <text
              x={left + i * cw + cw / 2}
              y={top + ch * p.y.length + 14}
              font-size="10"
              text-anchor="middle"
            >
              {x}
            </text>
          ) : null,
        )}
        {p.y.map((y, i) =>
          i % ye === 0 ? (
            <text
              x={left - 4}
              y={top + (p.y.length - 1 - i) * ch + ch / 2 + 3}
              font-size="10"
              text-anchor="end"
            >
              {y}
            </text>
          ) : null,
        )}
        <text x={left + (cw * p.x.length) / 2} y={h - 6} font-size="12" text-anchor="middle">
          {p.xLabel}
        </text>
      </svg>
      <figcaption>
        {p.yLabel} (rows) by {p.xLabel} (columns); {p.valueLabel} from {min.toFixed(2)} (blue) to{' '}
        {max.toFixed(2)} (orange)
        {p.highlight ? `; outlined: ${p.xLabel} ${p.highlight.x}, ${p.yLabel} ${p.highlight.y}` : ''}.
      </figcaption>
    </figure>
  );
}

const LINE_COLORS = ['#1f5fbf', '#b35900', '#2e7d32', '#6a1b9a'];

function Lines({ p }: { p: LinesPanel }) {
  const pts = p.series.flatMap((s) => s.points);
  const [x0, x1] = [Math.min(...pts.map((q) => q[0])), Math.max(...pts.map((q) => q[0]))];
  const [y0, y1] = [Math.min(...pts.map((q) => q[1])), Math.max(...pts.map((q) => q[1]))];
  const W = 720;
  const H = 300;
  const L = 56;
  const B = 28;
  const logY = y0 > 0 && y1 / y0 > 20; // growth over decades reads better on a log scale
  const fy = (v: number) => (logY ? Math.log(v) : v);
  const sx = (x: number) => L + ((x - x0) / (x1 - x0 || 1)) * (W - L - 8);
  const sy = (y: number) => 8 + (1 - (fy(y) - fy(y0)) / (fy(y1) - fy(y0) || 1)) * (H - B - 8);
  const fmtX = (x: number) =>
    p.xKind === 'time' ? new Date(x).toISOString().slice(0, 7) : String(Math.round(x));
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  return (
    <figure class="panel" aria-labelledby={`l-${p.title}`}>
      <h3 id={`l-${p.title}`}>{p.title}</h3>
      <svg
        width={W}
        height={H}
        role="img"
        data-testid="lines"
        aria-label={`${p.title}: ${p.series.map((s) => `${s.name} ends at ${s.points.at(-1)?.[1].toFixed(2)}`).join(', ')}`}
      >
        <line x1={L} y1={H - B} x2={W - 8} y2={H - B} stroke="#555" />
        <line x1={L} y1={8} x2={L} y2={H - B} stroke="#555" />
        {ticks.map((t) => {
          const v = logY ? Math.exp(fy(y0) + t * (fy(y1) - fy(y0))) : y0 + t * (y1 - y0);
          return (
            <text x={L - 4} y={sy(v) + 3} font-size="10" text-anchor="end">
              {v >= 100 ? v.toFixed(0) : v.toFixed(2)}
            </text>
          );
        })}
        {ticks.map((t) => (
          <text x={sx(x0 + t * (x1 - x0))} y={H - B + 14} font-size="10" text-anchor="middle">
            {fmtX(x0 + t * (x1 - x0))}
          </text>
        ))}
        {p.series.map((s, i) => (
          <polyline
            fill="none"
            stroke={LINE_COLORS[i % LINE_COLORS.length]}
            stroke-width={1.5}
            points={s.points.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}
          />
        ))}
      </svg>
      <figcaption>
        {p.series.map((s, i) => (
          <span class="legend">
            <span
              class="swatch"
              style={{ background: LINE_COLORS[i % LINE_COLORS.length] }}
              aria-hidden="true"
            />
            {s.name}
          </span>
        ))}
        {logY ? ' (log scale)' : ''} — {p.yLabel} by {p.xLabel}
      </figcaption>
    </figure>
  );
}

function Table({ p }: { p: TablePanel }) {
  return (
    <section class="panel" aria-label={p.title}>
      <h3>{p.title}</h3>
      <table data-testid="view-table">
        <thead>
          <tr>
            {p.columns.map((c) => (
              <th scope="col">{c.label}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {p.rows.map((r) => (
            <tr>
              {p.columns.map((c) => (
                <td>{r[c.key] ?? ''}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function Stats({ p }: { p: StatsPanel }) {
  return (
    <section class="panel" aria-label={p.title}>
      <h3>{p.title}</h3>
      <dl class="stats">
        {p.items.map((i) => (
          <div>
            <dt>{i.label}</dt>
            <dd>{i.value}</dd>
          </div>
        ))}
      </dl>
    </section>
  );
}

function Panel({ p }: { p: ResultPanel }) {
  switch (p.kind) {
    case 'heatmap':
      return <Heatmap p={p} />;
    case 'lines':
      return <Lines p={p} />;
    case 'table':
      return <Table p={p} />;
    case 'stats':
      return <Stats p={p} />;
    default:
      return null;
  }
}

export function ResultViewPanels({ view }: { view: ResultView }) {
  return (
    <section aria-labelledby="result-view" data-testid="result-view">
      <h2 id="result-view">{view.title}</h2>
      <div class="panels">
        {view.panels.map((p) => (
          <Panel p={p} />
        ))}
      </div>
    </section>
  );
}
