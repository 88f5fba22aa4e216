/**
 * The runtime's own tests run the example catalog (`@jobplane/examples`), as the default image
 * does. Spawned processes get it as a path (`--catalog` / JOBPLANE_CATALOG); run `npx tsc -b` first.
 */
import { fileURLToPath } from 'node:url';

export { catalog as examplesCatalog } from '@jobplane/examples';

/** Absolute path of the built example catalog module. */
export const EXAMPLES_CATALOG_MODULE = fileURLToPath(
  new URL('../../examples/dist/catalog.js', import.meta.url),
);
