/**
 * `@jobplane/proto`: the jobprocessing.v1 contracts as generated TypeScript (protobuf-es v2).
 * Generated code lives in src/gen and is rewritten by `npm run proto`; never edit it by hand.
 */
export * from './gen/jobprocessing/v1/job_pb.js';
export * from './gen/jobprocessing/v1/job_service_pb.js';
export * from './gen/jobprocessing/v1/schedule_service_pb.js';
export * from './gen/jobprocessing/v1/subscription_service_pb.js';
