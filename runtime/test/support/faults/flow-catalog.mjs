// A catalog for the flow-control fault test (runtime/test/faults/flow-control.test.ts): the
// example `demo.sleep` handler under flow-controlled job types. Spawned API and worker processes
// load it through JOBPLANE_CATALOG.
import { defineCatalog, defineJobType } from '@jobplane/sdk';
import { demoSleep } from '@jobplane/examples';

const base = {
  timeoutSeconds: 60,
  maxAttempts: 5,
  payload: demoSleep.payload,
  result: demoSleep.result,
  load: demoSleep.load,
};

/** At most 3 attempts of `flow.keyed` at once across all workers. */
export const FLOW_KEYED_LIMIT = 3;
/** At most 4 starts of `flow.rated` in any 2 s. */
export const FLOW_RATE = { limit: 4, intervalMs: 2000 };

export const catalog = defineCatalog({
  name: 'flow-faults',
  jobTypes: [
    defineJobType({
      ...base,
      type: 'flow.keyed',
      queue: 'keyed',
      flow: { concurrency: { limit: FLOW_KEYED_LIMIT } },
    }),
    defineJobType({ ...base, type: 'flow.rated', queue: 'rated', flow: { rateLimit: FLOW_RATE } }),
  ],
});

export default catalog;
