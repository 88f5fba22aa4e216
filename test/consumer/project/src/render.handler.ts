import type { JobContext } from '@jobplane/sdk';
import type { z } from 'zod';
import { markLoaded } from './loaded.js';
import type { renderPayload, renderResult } from './schemas.js';

markLoaded('render');

export default async function render(
  { frames }: z.output<typeof renderPayload>,
  ctx: JobContext,
): Promise<z.output<typeof renderResult>> {
  ctx.signal.throwIfAborted();
  return { rendered: frames };
}
