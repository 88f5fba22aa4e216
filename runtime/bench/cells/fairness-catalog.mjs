// The catalog of the F.fairness benchmark cell (runtime/bench/cells/f-fairness.ts): the example
// `demo.sleep` handler on two queues, one FIFO (the default) and one with fair share between clients.
import { defineCatalog, defineJobType } from '@jobplane/sdk';
import { demoSleep } from '@jobplane/examples';

const base = {
  timeoutSeconds: 60,
  maxAttempts: 3,
  payload: demoSleep.payload,
  result: demoSleep.result,
  load: demoSleep.load,
};

export const catalog = defineCatalog({
  name: 'bench-fairness',
  jobTypes: [
    defineJobType({ ...base, type: 'bench.fifo', queue: 'fifo' }),
    defineJobType({ ...base, type: 'bench.fair', queue: 'fair', flow: { fairness: 'client' } }),
  ],
});

export default catalog;
