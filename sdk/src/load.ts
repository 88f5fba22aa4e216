/**
 * Loading a catalog module by specifier, as `jobplane --catalog <module>` / `JOBPLANE_CATALOG` and
 * the constructs do: a path (`./dist/catalog.js`, `/app/catalog.js`) or a package specifier
 * (`@acme/jobs/catalog`) resolved from `cwd`.
 */
import { createRequire } from 'node:module';
import { isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { catalogFromModule, CatalogLoadError, type Catalog } from './catalog.js';

function looksLikePath(specifier: string): boolean {
  return (
    specifier.startsWith('./') ||
    specifier.startsWith('../') ||
    specifier === '.' ||
    isAbsolute(specifier) ||
    /\.(c|m)?js$/.test(specifier)
  );
}

/** The URL `import()` should load for `specifier`, resolved from `cwd`. */
export function resolveCatalogSpecifier(specifier: string, cwd: string): string {
  if (specifier.startsWith('file:')) return specifier;
  if (looksLikePath(specifier) && !specifier.startsWith('@'))
    return pathToFileURL(resolve(cwd, specifier)).href;
  // A package: resolve it from the caller's project, not from wherever this SDK is installed.
  try {
    return pathToFileURL(createRequire(join(cwd, 'noop.js')).resolve(specifier)).href;
  } catch {
    // ESM-only exports ("import" condition) are not visible to require.resolve: let import() try.
    return specifier;
  }
}

/**
 * Imports a catalog module and returns its catalog (default export or export `catalog`).
 * Throws a `CatalogLoadError` whose message names the specifier and the reason.
 */
export async function loadCatalog(specifier: string, cwd: string = process.cwd()): Promise<Catalog> {
  if (typeof specifier !== 'string' || specifier.trim() === '') {
    throw new CatalogLoadError('no catalog module given (pass --catalog <module> or set JOBPLANE_CATALOG)');
  }
  const target = resolveCatalogSpecifier(specifier.trim(), cwd);
  let mod: unknown;
  try {
    mod = await import(target);
  } catch (err) {
    const reason = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new CatalogLoadError(`cannot load catalog module '${specifier}': ${reason}`, { cause: err });
  }
  return catalogFromModule(mod, specifier);
}
