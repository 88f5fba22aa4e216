/** A dependency readiness probe: resolves to null when healthy, or a reason when not. */
export interface HealthCheck {
  readonly name: string;
  check(): Promise<string | null>;
}

/** Runs `fn`, or resolves `onTimeout` after `ms` (a dependency that hangs is not ready). */
export async function withTimeout<T>(fn: () => Promise<T>, ms: number, onTimeout: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(onTimeout), ms);
  });
  try {
    return await Promise.race([fn(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
