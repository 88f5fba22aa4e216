/**
 * B2: bare Fastify — a hello-world route and a schema-validated POST that touches nothing.
 * Started as a child process by the benchmark; prints `listening <port>` when ready.
 */
import Fastify from 'fastify';

const app = Fastify({ logger: false, bodyLimit: 1_048_576 });

app.get('/hello', async () => ({ hello: 'world' }));

app.post(
  '/v1/jobs',
  {
    schema: {
      body: {
        type: 'object',
        required: ['type', 'payload'],
        additionalProperties: false,
        properties: {
          type: { type: 'string', minLength: 1, maxLength: 100 },
          payload: { type: 'object' },
          maxAttempts: { type: 'integer', minimum: 1, maximum: 100 },
        },
      },
      headers: {
        type: 'object',
        required: ['idempotency-key'],
        properties: { 'idempotency-key': { type: 'string', minLength: 1, maxLength: 200 } },
      },
    },
  },
  async (request, reply) => {
    const body = request.body as { type: string };
    return reply.code(202).send({
      job: { id: '00000000-0000-4000-8000-000000000000', type: body.type, state: 'JOB_STATE_QUEUED' },
    });
  },
);

const port = Number(process.env['PORT'] ?? 0);
await app.listen({ port, host: '127.0.0.1' });
const address = app.server.address();
console.log(`listening ${typeof address === 'object' && address ? address.port : port}`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
