/**
 * PromQL built from the runtime's metric names, so a rename breaks the build, not the scaler.
 */
import { BACKLOG_STATES, METRIC_NAMES } from '@jobplane/sdk/contract';

/**
 * The real backlog of one queue: waiting + prioritized + active (not only BullMQ's `wait` list).
 * Every api, relay and worker replica exports the same queue gauges, so the series are first
 * de-duplicated with `max by (queue, state)` and only then summed over the states; a plain `sum`
 * would count the backlog once per exporting replica and over-scale.
 */
export function backlogQuery(queue: string): string {
  return `sum(max by (queue, state) (${METRIC_NAMES.queueJobs}{queue="${queue}",state=~"${BACKLOG_STATES.join('|')}"}))`;
}
