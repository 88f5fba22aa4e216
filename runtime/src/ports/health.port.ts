/** A dependency readiness probe: resolves to null when healthy, or a reason when not. */
export interface HealthCheck {
  readonly name: string;
  check(): Promise<string | null>;
}
