import type { JobContext } from '@jobplane/sdk';
import type { z } from 'zod';
import type { renderPayload, renderResult } from './schemas.js';

export default async function render(
  { frames }: z.output<typeof renderPayload>,
  ctx: JobContext,
): Promise<z.output<typeof renderResult>> {
  ctx.signal.throwIfAborted();
  return { rendered: frames };
}
