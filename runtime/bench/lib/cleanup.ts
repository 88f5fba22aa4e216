/** Last-resort cleanup: private services and child processes are released even on Ctrl-C. */
const tasks = new Set<() => Promise<void> | void>();

/** Registers a cleanup; returns a function that unregisters it (call it after a normal release). */
export function onCleanup(task: () => Promise<void> | void): () => void {
  tasks.add(task);
  return () => tasks.delete(task);
}

export async function runCleanups(): Promise<void> {
  for (const task of [...tasks].reverse()) {
    tasks.delete(task);
    try {
      await task();
    } catch {
      /* best effort */
    }
  }
}

let installed = false;
/** On SIGINT/SIGTERM: run every cleanup, then exit 130/143. */
export function installSignalCleanup(): void {
  if (installed) return;
  installed = true;
  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: cleaning up`);
      void runCleanups().finally(() => process.exit(code));
    });
  }
}
