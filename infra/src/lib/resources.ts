/** Container resources; requests.cpu, requests.memory and limits.memory are always set (K2). */
export interface ResourceSpec {
  /** CPU request, e.g. `100m`. */
  readonly cpu: string;
  /** Memory request and limit, e.g. `256Mi` (limit = request: no memory overcommit). */
  readonly memory: string;
  /** Optional CPU limit; unset by default (CPU limits throttle Node's event loop). */
  readonly cpuLimit?: string;
}

export function resourceRequirements(r: ResourceSpec): Record<string, Record<string, string>> {
  return {
    requests: { cpu: r.cpu, memory: r.memory },
    limits: { memory: r.memory, ...(r.cpuLimit ? { cpu: r.cpuLimit } : {}) },
  };
}
