/**
 * The runtime's env-var schema lives in `@jobplane/sdk/contract` (shared with the constructs).
 * `loadConfig` here also checks queue and job-type names against the runtime's catalog.
 */
import {
  loadConfig as loadContractConfig,
  type JobplaneCommand,
  type JobplaneConfig as ContractConfig,
} from '@jobplane/sdk/contract';
import { JOB_TYPE_CATALOG, JOB_TYPES, type JobType, type QueueName } from './job-types.js';

export * from '@jobplane/sdk/contract';

export interface JobplaneConfig extends Omit<
  ContractConfig,
  'WORKER_QUEUES' | 'RUN_ONE_QUEUE' | 'JOBPLANE_WEBHOOKS'
> {
  readonly WORKER_QUEUES?: QueueName[] | undefined;
  readonly RUN_ONE_QUEUE?: QueueName | undefined;
  readonly JOBPLANE_WEBHOOKS?:
    | Record<string, NonNullable<ContractConfig['JOBPLANE_WEBHOOKS']>[string] & { readonly jobType: JobType }>
    | undefined;
}

const catalog = { jobTypes: JOB_TYPES.map((type) => ({ type, ...JOB_TYPE_CATALOG[type] })) };

/** `loadConfig` of the contract, with queue and job-type names checked against the catalog. */
export function loadConfig(
  env: Record<string, string | undefined>,
  command: JobplaneCommand,
): JobplaneConfig {
  return loadContractConfig(env, command, catalog) as JobplaneConfig;
}
