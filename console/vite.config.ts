import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

// Served by the API under /console (runtime/src/adapters/http/routes/console-static.routes.ts).
// `npm run dev -w @jobplane/console` proxies the API of a local `make dev-local` (port 8080).
export default defineConfig({
  base: '/console/',
  plugins: [preact()],
  build: { outDir: 'dist', assetsDir: 'assets', sourcemap: false, emptyOutDir: true },
  server: { proxy: { '/console/api': 'http://127.0.0.1:8080', '/v1': 'http://127.0.0.1:8080' } },
});
