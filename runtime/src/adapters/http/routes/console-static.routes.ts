import { readFile } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import { problem, sendProblem } from '../problem.js';

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
};

export interface ConsoleStaticOptions {
  /** The console's build output (`console/dist`: index.html and assets/); null when not built. */
  readonly root: string | null;
}

/**
 * The console's UI: `/console` answers its index.html, `/console/<file>` its built assets (Vite
 * names them by content hash: cached for a year). Public: the UI holds no data; every call it makes
 * to `/console/api` carries the key the user signed in with. When the UI was not built, `/console`
 * answers a 404 that says how to build it.
 */
export function consoleStaticRoutes(opts: ConsoleStaticOptions): FastifyPluginAsync {
  const root = opts.root ? resolve(opts.root) : null;
  return async (app) => {
    const notBuilt = () =>
      problem(404, 'ROUTE.NOT_FOUND', 'the console is not built: run `npm run build` (builds console/dist)');
    const schema = { summary: 'The job console (browser UI)', tags: ['console'] };
    app.get('/console', { schema, config: { auth: 'public' } }, async (_request, reply) => {
      if (!root) return sendProblem(reply, notBuilt());
      const html = await readFile(join(root, 'index.html')).catch(() => null);
      if (!html) return sendProblem(reply, notBuilt());
      return reply.type(TYPES['.html']!).header('cache-control', 'no-cache').send(html);
    });
    app.get(
      '/console/*',
      { schema: { ...schema, summary: 'The job console: built assets' }, config: { auth: 'public' } },
      async (request, reply) => {
        const rel = (request.params as { '*': string })['*'];
        if (!root) return sendProblem(reply, notBuilt());
        const file = resolve(root, rel);
        const type = TYPES[extname(file)];
        if (!file.startsWith(root + sep) || !type || rel.includes('\0'))
          return sendProblem(
            reply,
            problem(404, 'ROUTE.NOT_FOUND', `no console file '${rel.slice(0, 100)}'`),
          );
        const body = await readFile(file).catch(() => null);
        if (!body)
          return sendProblem(
            reply,
            problem(404, 'ROUTE.NOT_FOUND', `no console file '${rel.slice(0, 100)}'`),
          );
        const hashed = rel.startsWith('assets/');
        return reply
          .type(type)
          .header('cache-control', hashed ? 'public, max-age=31536000, immutable' : 'no-cache')
          .send(body);
      },
    );
  };
}
