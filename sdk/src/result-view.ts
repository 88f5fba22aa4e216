/**
 * Result views: what a job type shows of a finished job in the console, as data. A job type
 * declares `view: () => import('./my.view.js')`; the API imports it on first use (never handler
 * code), passes it the job's payload, result and fan-out children, and the console draws the panels
 * it returns. The console knows the panel kinds below, not the job types.
 */

/** A grid of values over two numeric axes, e.g. Sharpe ratio over (fast, slow). */
export interface HeatmapPanel {
  readonly kind: 'heatmap';
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  /** Column values, ascending. */
  readonly x: readonly number[];
  /** Row values, ascending. */
  readonly y: readonly number[];
  /** `values[row][column]`; null: no value for that cell. */
  readonly values: readonly (readonly (number | null)[])[];
  readonly valueLabel: string;
  /** A cell to outline, e.g. the best pair. */
  readonly highlight?: { readonly x: number; readonly y: number };
}

/** Line series over a shared numeric x axis (an index or a time in ms). */
export interface LinesPanel {
  readonly kind: 'lines';
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  /** `time`: x values are epoch milliseconds. */
  readonly xKind?: 'number' | 'time';
  readonly series: readonly {
    readonly name: string;
    readonly points: readonly (readonly [number, number])[];
  }[];
}

/** Rows of named cells. */
export interface TablePanel {
  readonly kind: 'table';
  readonly title: string;
  readonly columns: readonly { readonly key: string; readonly label: string }[];
  readonly rows: readonly Readonly<Record<string, string | number | null>>[];
}

/** Labelled figures. */
export interface StatsPanel {
  readonly kind: 'stats';
  readonly title: string;
  readonly items: readonly { readonly label: string; readonly value: string | number }[];
}

export type ResultPanel = HeatmapPanel | LinesPanel | TablePanel | StatsPanel;

export interface ResultView {
  readonly title: string;
  readonly panels: readonly ResultPanel[];
}

/** What a view builder gets: the finished job and, for a fan-out parent, its children. */
export interface ResultViewInput {
  readonly type: string;
  readonly payload: Record<string, unknown>;
  readonly result: Record<string, unknown>;
  readonly children: readonly {
    readonly index: number;
    readonly state: string;
    readonly result: Record<string, unknown> | null;
  }[];
}

export type ResultViewBuilder = (input: ResultViewInput) => ResultView | Promise<ResultView>;

/** What `view()` may resolve to: a builder, or a module whose default export (or `view`) is one. */
export type LoadedResultView =
  ResultViewBuilder | { readonly default: ResultViewBuilder } | { readonly view: ResultViewBuilder };

/** The builder of a loaded view module; throws when it exports none. */
export function resultViewBuilderOf(loaded: LoadedResultView): ResultViewBuilder {
  if (typeof loaded === 'function') return loaded;
  const m = loaded as { default?: unknown; view?: unknown };
  if (typeof m.default === 'function') return m.default as ResultViewBuilder;
  if (typeof m.view === 'function') return m.view as ResultViewBuilder;
  throw new TypeError('a result view module must export a function as its default export or as `view`');
}
