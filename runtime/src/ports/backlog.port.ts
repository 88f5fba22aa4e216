/** Current backlog (waiting + prioritized + delayed messages) of a queue; null when unknown. */
export interface BacklogGauge {
  depth(queue: string): number | null;
}
