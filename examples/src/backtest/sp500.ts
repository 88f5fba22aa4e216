import { readFileSync } from 'node:fs';

/**
 * The bundled S&P 500 monthly series (Robert Shiller's data, packaged by datasets/s-and-p-500,
 * PDDL-1.0; see examples/data/README.md). Resolved relative to this module: the same relative
 * path holds from src/backtest/, from dist/backtest/ and from an installed package, because
 * `data/` ships next to `dist/`.
 */
export const SP500_CSV_URL = new URL('../../data/sp500-monthly.csv', import.meta.url);

export interface MonthlyPrice {
  /** `YYYY-MM`. */
  readonly month: string;
  readonly price: number;
}

/** Parses the CSV's Date and SP500 columns; rows without a positive price are an error. */
export function parseSp500Csv(text: string): MonthlyPrice[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = (lines[0] ?? '').split(',');
  const dateCol = header.indexOf('Date');
  const priceCol = header.indexOf('SP500');
  if (dateCol < 0 || priceCol < 0)
    throw new Error(`S&P 500 CSV header must have Date and SP500 (got '${lines[0]}')`);
  return lines.slice(1).map((line, i) => {
    const cells = line.split(',');
    const month = (cells[dateCol] ?? '').slice(0, 7);
    const price = Number(cells[priceCol]);
    if (!/^\d{4}-\d{2}$/.test(month) || !(price > 0)) {
      throw new Error(`S&P 500 CSV line ${i + 2} ('${line}') needs a YYYY-MM-DD date and a positive SP500`);
    }
    return { month, price };
  });
}

let cached: MonthlyPrice[] | undefined;

/** The whole bundled series, read once per process. */
export function loadSp500(): readonly MonthlyPrice[] {
  cached ??= parseSp500Csv(readFileSync(SP500_CSV_URL, 'utf8'));
  return cached;
}

/** Months in [from, to] (inclusive, `YYYY-MM`; open ends allowed). */
export function sp500Between(from?: string, to?: string): MonthlyPrice[] {
  return loadSp500().filter(
    (row) => (from === undefined || row.month >= from) && (to === undefined || row.month <= to),
  );
}
