// Payload and result schemas, shared by the catalog (data) and the handlers (code).
import { z } from 'zod';

export const greetPayload = z.object({ name: z.string().min(1) });
export const greetResult = z.object({ greeting: z.string(), attempt: z.number().int() });
export const renderPayload = z.object({ frames: z.number().int().positive() });
export const renderResult = z.object({ rendered: z.number().int() });
