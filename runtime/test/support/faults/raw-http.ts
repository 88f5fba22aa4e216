import { connect } from 'node:net';

export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/**
 * Sends one HTTP/1.1 request byte for byte over a fresh TCP connection (Connection: close) and
 * reads the answer. Unlike fetch or http.request it does not validate header names or values, so a
 * test can send control characters, raw non-ASCII bytes and duplicate headers, as an attacker can.
 */
export async function rawRequest(
  port: number,
  method: string,
  path: string,
  headers: readonly (readonly [string, string | Buffer])[],
  body?: string | Buffer,
  timeoutMs = 10_000,
): Promise<RawResponse> {
  const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  const head: Buffer[] = [
    Buffer.from(`${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n`, 'latin1'),
  ];
  for (const [k, v] of headers)
    head.push(
      Buffer.concat([
        Buffer.from(`${k}: `, 'latin1'),
        Buffer.isBuffer(v) ? v : Buffer.from(v, 'utf8'),
        Buffer.from('\r\n'),
      ]),
    );
  if (payload) head.push(Buffer.from(`Content-Length: ${payload.length}\r\n`));
  head.push(Buffer.from('\r\n'));
  const request = payload ? Buffer.concat([...head, payload]) : Buffer.concat(head);

  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer within ${timeoutMs} ms to ${method} ${path}`));
    }, timeoutMs);
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', (err) => {
      // The server may answer and close before reading the whole body (413): keep what arrived.
      if (chunks.length === 0) {
        clearTimeout(timer);
        reject(err);
      }
    });
    socket.on('close', () => {
      clearTimeout(timer);
      try {
        resolve(parseResponse(Buffer.concat(chunks)));
      } catch (err) {
        reject(err as Error);
      }
    });
    // No half-close: Node servers drop the answer when the client ends its side first; `Connection: close` ends it.
    socket.write(request);
  });
}

function parseResponse(raw: Buffer): RawResponse {
  const sep = raw.indexOf('\r\n\r\n');
  if (sep < 0)
    throw new Error(`no HTTP answer (${raw.length} bytes: ${raw.toString('latin1').slice(0, 120)})`);
  const lines = raw.subarray(0, sep).toString('latin1').split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
  if (!m) throw new Error(`bad status line: ${lines[0]}`);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  let bodyBuf = raw.subarray(sep + 4);
  if (headers['transfer-encoding']?.includes('chunked')) bodyBuf = dechunk(bodyBuf);
  return { status: Number(m[1]), headers, body: bodyBuf.toString('utf8') };
}

function dechunk(buf: Buffer): Buffer {
  const out: Buffer[] = [];
  let i = 0;
  while (i < buf.length) {
    const eol = buf.indexOf('\r\n', i);
    if (eol < 0) break;
    const size = parseInt(buf.subarray(i, eol).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    out.push(buf.subarray(eol + 2, eol + 2 + size));
    i = eol + 2 + size + 2;
  }
  return Buffer.concat(out);
}
