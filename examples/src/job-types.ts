/**
 * The example job types: pure data, zod schemas and lazy loaders. Importing this module (or the
 * catalog) never imports handler code: each `load` imports its handler module on first use.
 */
import { defineContainerJobType, defineJobType } from '@jobplane/sdk';
import { z } from 'zod';
import {
  backtestChunkPayloadSchema,
  backtestChunkProblems,
  backtestFullPayloadSchema,
  backtestFullProblems,
  backtestSweepPayloadSchema,
  backtestSweepProblems,
  chunkResultSchema,
  sweepSummarySchema,
} from './backtest/payload.js';
import { demoSleepPayloadSchema, demoSleepResultSchema } from './demo-sleep/payload.js';

/** Simulated work that takes `durationMs` and fails with probability `failureRate`. */
export const demoSleep = defineJobType({
  type: 'demo.sleep',
  queue: 'default',
  timeoutSeconds: 60,
  maxAttempts: 3,
  description:
    'Simulated work: sleeps durationMs (reporting progress), then fails with probability failureRate.',
  payload: demoSleepPayloadSchema,
  result: demoSleepResultSchema,
  example: { durationMs: 500, failureRate: 0 },
  load: () => import('./demo-sleep/handler.js'),
});

/** A moving-average-crossover parameter sweep fanned out into `backtest.chunk` children. */
export const backtestSweep = defineJobType({
  type: 'backtest.sweep',
  queue: 'default',
  timeoutSeconds: 120,
  maxAttempts: 3,
  description:
    'Moving-average crossover sweep over a price series, fanned out into backtest.chunk children; picks the best Sharpe ratio.',
  payload: backtestSweepPayloadSchema,
  checks: backtestSweepProblems,
  result: sweepSummarySchema,
  example: { series: { kind: 'sp500', from: '1950-01' }, chunkSize: 25 },
  load: () => import('./backtest/sweep.handler.js'),
  view: () => import('./backtest/sweep.view.js'),
});

/** One slice of a sweep's grid (child-only). */
export const backtestChunk = defineJobType({
  type: 'backtest.chunk',
  queue: 'backtest',
  timeoutSeconds: 120,
  maxAttempts: 3,
  submittable: false,
  description: 'One slice of a backtest.sweep grid (created by the sweep, not submittable).',
  payload: backtestChunkPayloadSchema,
  checks: backtestChunkProblems,
  result: chunkResultSchema,
  load: () => import('./backtest/chunk.handler.js'),
});

/** The whole grid in one isolated Kubernetes Job. */
export const backtestFull = defineJobType({
  type: 'backtest.full',
  queue: 'backtest-full',
  mode: 'isolated',
  timeoutSeconds: 900,
  maxAttempts: 2,
  description: 'The same sweep in one process (isolated mode: one Kubernetes Job per job).',
  payload: backtestFullPayloadSchema,
  checks: backtestFullProblems,
  result: sweepSummarySchema,
  example: { series: { kind: 'random-walk', seed: 42, length: 600 } },
  load: () => import('./backtest/full.handler.js'),
  view: () => import('./backtest/sweep.view.js'),
});

/**
 * `text.stats`: a container job in Python (`examples/python-job/`): word counts of a text. Any
 * image runs this way — the launcher creates one Kubernetes Job per attempt.
 */
export const textStats = defineContainerJobType({
  type: 'text.stats',
  queue: 'python',
  timeoutSeconds: 120,
  maxAttempts: 3,
  description: 'Word statistics of a text, computed by a Python container (examples/python-job).',
  payload: z.object({
    text: z.string().max(50_000),
    top: z.number().int().min(1).max(20).default(5),
  }),
  result: z.object({
    characters: z.number().int(),
    words: z.number().int(),
    distinct: z.number().int(),
    top: z.array(z.object({ word: z.string(), count: z.number().int() })),
  }),
  example: { text: 'the quick brown fox jumps over the lazy dog', top: 3 },
  container: {
    image: 'ghcr.io/jobplane/python-job:0.1.0',
    nonRetryableExitCodes: [3],
    resources: { requests: { cpu: '100m', memory: '64Mi' }, limits: { memory: '128Mi' } },
    maxPayloadBytes: 65_536,
  },
});
