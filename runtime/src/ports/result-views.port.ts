import type { ResultView, ResultViewInput } from '@jobplane/sdk';

/** The result views job types declare (`view` in defineJobType), loaded on first use. */
export interface ResultViews {
  has(type: string): boolean;
  build(type: string, input: ResultViewInput): Promise<ResultView>;
}
