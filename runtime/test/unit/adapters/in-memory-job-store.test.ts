import { InMemoryJobStore } from '../../../src/adapters/memory/in-memory-job-store.js';
import { describeJobStoreContract } from '../../contract/job-store.contract.js';

describeJobStoreContract('in memory', async () => ({
  store: new InMemoryJobStore(),
  close: async () => undefined,
}));
