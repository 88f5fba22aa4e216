/**
 * Rewrites the verifier's rule table in docs/infra.md (between `<!-- rules:start -->` and
 * `<!-- rules:end -->`) from `BUILTIN_RULES`. Run with `npx tsx infra/scripts/render-rule-table.ts`
 * after changing verify/rules.ts; infra/test/verify-rules.test.ts fails while the doc is stale.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderRuleTable } from '../src/verify/rules.js';

const file = fileURLToPath(new URL('../../docs/infra.md', import.meta.url));
const doc = readFileSync(file, 'utf8');
const start = '<!-- rules:start -->';
const end = '<!-- rules:end -->';
const a = doc.indexOf(start);
const b = doc.indexOf(end);
if (a < 0 || b < a) throw new Error(`docs/infra.md has no ${start} … ${end} section`);
writeFileSync(file, `${doc.slice(0, a + start.length)}\n${renderRuleTable()}\n${doc.slice(b)}`);
console.log(`wrote the rule table into ${file}`);
