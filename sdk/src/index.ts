/**
 * `@jobplane/sdk`: declare job types and catalogs for Jobplane. Depends on zod only.
 *
 *   defineContainerJobType  any image as one Kubernetes Job per attempt (docs/container-jobs.md)
 *   defineJobType   a job type: name, queue, mode, limits, zod schemas and a lazy handler loader
 *   defineCatalog   the job types one team runs, and the queues they imply
 *   drainContract   per-queue shutdown budgets the constructs put on pods
 *   JobContext      what a handler gets: signal, progress, logger, attempt, executionKey
 *   fanOut          spawn children; the type's aggregate combines their outcomes
 *
 * See docs/jobs-sdk.md.
 */
export {
  childJob,
  defineJobType,
  isJobType,
  jobTypeNameProblem,
  queueNameProblem,
  JobTypeDefinitionError,
  DEFAULT_BACKOFF_MAX_DELAY_MS,
  DEFAULT_MAX_ATTEMPTS,
  EXECUTION_MODES,
  JOB_TYPE_PATTERN,
  MAX_ATTEMPTS,
  MAX_BACKOFF_MS,
  MAX_CONCURRENCY,
  MAX_JOB_TYPE_LENGTH,
  MAX_QUEUE_NAME_LENGTH,
  MAX_TIMEOUT_SECONDS,
  QUEUE_NAME_PATTERN,
  FLOW_PAYLOAD_PATH_PATTERN,
  MAX_FLOW_LIMIT,
  MAX_RATE_INTERVAL_MS,
} from './job-type.js';
export type {
  AnyJobType,
  BackoffSpec,
  ExecutionMode,
  FlowConcurrencyKey,
  FlowRateKey,
  FlowSpec,
  Handler,
  JobTypeDefinition,
  JobTypeOptions,
  LoadedHandler,
  PayloadInputOf,
  PayloadOf,
  ResultOf,
} from './job-type.js';
export {
  catalogFromModule,
  CatalogLoadError,
  CATALOG_NAME_PATTERN,
  defineCatalog,
  drainContract,
  DRAIN_MARGIN_SECONDS,
  isCatalog,
  PRESTOP_SECONDS,
} from './catalog.js';
export type { Catalog, CatalogOptions, DrainContract, QueueSpec } from './catalog.js';
export {
  checkContainerSpec,
  defineContainerJobType,
  imageProblem,
  DEFAULT_CONTAINER_TTL_SECONDS,
  DEFAULT_MAX_PAYLOAD_BYTES,
  MAX_PAYLOAD_BYTES_LIMIT,
  MAX_RESULT_BYTES,
  PAYLOAD_FILE,
  PAYLOAD_MOUNT_PATH,
  TERMINATION_MESSAGE_PATH,
} from './container.js';
export type {
  ContainerJobTypeOptions,
  ContainerResourceList,
  ContainerSpec,
  IndexedSpec,
} from './container.js';
export { fanOut, isFanOut, toHandlerObject, UnrecoverableJobError } from './handler.js';
export type {
  ChildJob,
  ChildOutcome,
  FanOut,
  JobContext,
  JobHandlerImpl,
  JobHandlerObject,
  JobLogger,
} from './handler.js';
export {
  checkPayload,
  describeIssue,
  fieldName,
  payloadJsonSchema,
  showValue,
  validatePayload,
} from './payload.js';
export type { PayloadCheck } from './payload.js';
export { loadCatalog, resolveCatalogSpecifier } from './load.js';
export { resultViewBuilderOf } from './result-view.js';
export type {
  HeatmapPanel,
  LinesPanel,
  LoadedResultView,
  ResultPanel,
  ResultView,
  ResultViewBuilder,
  ResultViewInput,
  StatsPanel,
  TablePanel,
} from './result-view.js';
