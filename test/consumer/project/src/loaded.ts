// Records which handler modules this process imported (the synth must import none).
const key = Symbol.for('acme.loadedHandlers');
const registry = globalThis as unknown as Record<symbol, string[] | undefined>;

export function markLoaded(handler: string): void {
  (registry[key] ??= []).push(handler);
}

export function loadedHandlers(): readonly string[] {
  return registry[key] ?? [];
}
