import { describeJobStoreContract } from '../contract/job-store.contract.js';
import { isolate } from './helpers.js';

describeJobStoreContract('PostgreSQL', async () => {
  const iso = await isolate('store-contract');
  const core = iso.core('api');
  return { store: core.store, close: () => iso.cleanup() };
});
