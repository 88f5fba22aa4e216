// The docker compose stack's alert receiver: Alertmanager posts its webhook JSON here
// (deploy/alertmanager/alertmanager.yml routes critical alerts to /critical, warnings to /warning),
// and each alert becomes one JSON log line, read with `docker compose logs -f alert-receiver`.
// Plain Node (no dependencies); tested by test/delivery/compose.test.ts.
import { createServer } from 'node:http';
import process from 'node:process';

const port = Number(process.env.PORT ?? 9099);
const MAX_BODY = 1024 * 1024;

const server = createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/healthz') return void res.writeHead(200).end('ok\n');
  if (req.method !== 'POST') return void res.writeHead(405).end();
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => {
    body += chunk;
    if (body.length > MAX_BODY) req.destroy();
  });
  req.on('end', () => {
    let payload;
    try {
      payload = JSON.parse(body);
    } catch {
      return void res.writeHead(400).end('invalid JSON\n');
    }
    for (const alert of payload.alerts ?? []) {
      const line = {
        receiver: payload.receiver,
        route: req.url,
        status: alert.status,
        alertname: alert.labels?.alertname,
        severity: alert.labels?.severity,
        service: alert.labels?.service,
        labels: alert.labels,
        summary: alert.annotations?.summary,
        startsAt: alert.startsAt,
      };
      process.stdout.write(JSON.stringify(line) + '\n');
    }
    res.writeHead(200).end();
  });
});

server.listen(port, () => {
  const { port: bound } = server.address();
  process.stdout.write(JSON.stringify({ msg: 'alert receiver listening', port: bound }) + '\n');
});
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
