/**
 * PromQL built from the runtime's metric names, so a rename breaks the build, not the scaler.
 */
import { BACKLOG_STATES, METRIC_NAMES } from '@jobplane/runtime/config';

/** The real backlog of one queue: waiting + prioritized + active (not only BullMQ's `wait` list). */
export function backlogQuery(queue: string): string {
  return `sum(${METRIC_NAMES.queueJobs}{queue="${queue}",state=~"${BACKLOG_STATES.join('|')}"})`;
}
