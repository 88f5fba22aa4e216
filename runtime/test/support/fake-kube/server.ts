/**
 * A fake Kubernetes API server for the container-job tests: real HTTP and JSON, enough of
 * `batch/v1` Jobs, `v1` Secrets and Pods for `@kubernetes/client-node`, faithful to list/watch
 * (one resourceVersion counter, watch events from a history, BOOKMARKs when
 * `allowWatchBookmarks`, `timeoutSeconds`, an ERROR 410 Gone for a compacted resourceVersion),
 * with injectable failures (status codes, hung requests, cut watch streams) and a simulated
 * Job controller + kubelet (see kubelet.ts).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';

export type Kind = 'jobs' | 'pods' | 'secrets';
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type KObj = Record<string, any>;

export interface WatchEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly kind: Kind;
  readonly rv: number;
  readonly object: KObj;
}

/** A failure to inject: the next `times` requests matching `method` and `path` get it. */
export interface Fault {
  readonly method?: string;
  readonly path: RegExp;
  /** An HTTP status answered with a Status body, `hang` (never answered), or `cut` (socket destroyed). */
  readonly effect: number | 'hang' | 'cut';
  times: number;
  /** For POSTs: apply the request before failing (the object exists although the client got an error). */
  readonly afterApply?: boolean;
}

interface Watcher {
  readonly kind: Kind;
  readonly namespace: string;
  readonly selector: Record<string, string>;
  readonly res: ServerResponse;
  readonly bookmarks: boolean;
  timers: NodeJS.Timeout[];
}

export interface CreateRecord {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly at: number;
}

function parseSelector(raw: string | null): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (raw ?? '').split(',').filter(Boolean)) {
    const [k, v] = part.split('=');
    if (k) out[k] = v ?? '';
  }
  return out;
}

function matches(obj: KObj, selector: Record<string, string>): boolean {
  const labels = (obj.metadata?.labels ?? {}) as Record<string, string>;
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

function status(code: number, reason: string, message: string): KObj {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

const REASONS: Record<number, string> = {
  404: 'NotFound',
  409: 'AlreadyExists',
  410: 'Expired',
  422: 'Invalid',
  500: 'InternalError',
  503: 'ServiceUnavailable',
};

export class FakeKubeApi {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly store: Record<Kind, Map<string, KObj>> = {
    jobs: new Map(),
    pods: new Map(),
    secrets: new Map(),
  };
  private readonly history: WatchEvent[] = [];
  private readonly watchers = new Set<Watcher>();
  private rv = 100;
  /** Watches resuming from a resourceVersion below this get 410 Gone. */
  private compactedBelow = 0;
  readonly faults: Fault[] = [];
  /** Every Job successfully created (201), in order. */
  readonly createdJobs: CreateRecord[] = [];
  /** Job creates answered 409 AlreadyExists. */
  conflicts = 0;
  /** Requests seen, by `METHOD path` (without the query). */
  readonly requests: string[] = [];
  /** When set, a Job create is applied but its answer is held until `releaseHeld()` (or forever). */
  holdCreates = false;
  private readonly held: (() => void)[] = [];
  bookmarkMs = 200;
  /** Called after every change (the simulated controllers react to it). */
  onChange: (e: WatchEvent) => void = () => undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const w of this.watchers) this.endWatch(w);
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** A KubeConfig for the in-process client. */
  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'tester', token: 'fake-token' }],
      contexts: [{ name: 'fake', cluster: 'fake', user: 'tester', namespace: 'jobs' }],
      currentContext: 'fake',
    });
    return kc;
  }

  /** A kubeconfig file for child processes (`KUBECONFIG`). */
  kubeConfigFile(): string {
    const dir = mkdtempSync(join(tmpdir(), 'fake-kube-'));
    const path = join(dir, 'config');
    writeFileSync(path, this.kubeConfig().exportConfig());
    return path;
  }

  /** Cuts every open watch stream (the client sees the connection drop). */
  cutWatches(): number {
    let n = 0;
    for (const w of [...this.watchers]) {
      w.res.socket?.destroy();
      this.endWatch(w);
      n++;
    }
    return n;
  }

  /** Forgets the history: resuming from any resourceVersion seen so far is 410 Gone. */
  compact(): void {
    this.compactedBelow = this.rv + 1;
    this.history.length = 0;
  }

  releaseHeld(): void {
    for (const r of this.held.splice(0)) r();
  }

  get watchCount(): number {
    return this.watchers.size;
  }

  list(kind: Kind, namespace = 'jobs'): KObj[] {
    return [...this.store[kind].values()].filter((o) => o.metadata.namespace === namespace);
  }

  get(kind: Kind, namespace: string, name: string): KObj | undefined {
    return this.store[kind].get(`${namespace}/${name}`);
  }

  // ---- mutations (also used by the simulated controllers) ----

  put(kind: Kind, obj: KObj, type: 'ADDED' | 'MODIFIED'): KObj {
    this.rv++;
    obj.metadata.resourceVersion = String(this.rv);
    this.store[kind].set(`${obj.metadata.namespace}/${obj.metadata.name}`, obj);
    this.emit({ type, kind, rv: this.rv, object: obj });
    return obj;
  }

  /** Updates an object in place through `fn` (no-op when it is gone). */
  update(kind: Kind, namespace: string, name: string, fn: (o: KObj) => void): KObj | undefined {
    const cur = this.get(kind, namespace, name);
    if (!cur) return undefined;
    const copy = structuredClone(cur);
    fn(copy);
    return this.put(kind, copy, 'MODIFIED');
  }

  remove(kind: Kind, namespace: string, name: string): KObj | undefined {
    const cur = this.get(kind, namespace, name);
    if (!cur) return undefined;
    this.store[kind].delete(`${namespace}/${name}`);
    this.rv++;
    const obj = { ...cur, metadata: { ...cur.metadata, resourceVersion: String(this.rv) } };
    this.emit({ type: 'DELETED', kind, rv: this.rv, object: obj });
    // Garbage collection: dependents owned by the removed object follow (background propagation).
    for (const k of ['pods', 'secrets'] as Kind[]) {
      for (const dep of this.list(k, namespace)) {
        if ((dep.metadata.ownerReferences ?? []).some((r: KObj) => r.uid === cur.metadata.uid)) {
          setImmediate(() => this.remove(k, namespace, dep.metadata.name));
        }
      }
    }
    return obj;
  }

  private emit(e: WatchEvent): void {
    this.history.push(e);
    if (this.history.length > 5000) this.history.splice(0, 1000);
    for (const w of this.watchers) {
      if (w.kind === e.kind && w.namespace === e.object.metadata.namespace && matches(e.object, w.selector)) {
        this.writeEvent(w, e.type, e.object);
      }
    }
    this.onChange(e);
  }

  private writeEvent(w: Watcher, type: string, object: KObj): void {
    if (!w.res.writableEnded) w.res.write(`${JSON.stringify({ type, object })}\n`);
  }

  private endWatch(w: Watcher): void {
    for (const t of w.timers) clearTimeout(t);
    this.watchers.delete(w);
    if (!w.res.writableEnded) w.res.end();
  }

  // ---- HTTP ----

  private send(res: ServerResponse, code: number, body: KObj): void {
    if (res.writableEnded || res.destroyed) return;
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private async body(req: IncomingMessage): Promise<KObj> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    return text ? (JSON.parse(text) as KObj) : {};
  }

  private takeFault(method: string, path: string): Fault | undefined {
    const f = this.faults.find((x) => x.times > 0 && (!x.method || x.method === method) && x.path.test(path));
    if (f) f.times--;
    return f;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const method = req.method ?? 'GET';
    const path = url.pathname;
    this.requests.push(`${method} ${path}${url.searchParams.get('watch') === 'true' ? '?watch' : ''}`);
    const fault = this.takeFault(method, `${path}${url.search}`);
    if (fault && !fault.afterApply) {
      if (fault.effect === 'hang') return; // never answered
      if (fault.effect === 'cut') return void req.socket.destroy();
      return this.send(
        res,
        fault.effect,
        status(fault.effect, REASONS[fault.effect] ?? 'Error', 'injected failure'),
      );
    }
    const m =
      /^\/apis\/batch\/v1\/namespaces\/([^/]+)\/(jobs)(?:\/([^/]+))?$/.exec(path) ??
      /^\/api\/v1\/namespaces\/([^/]+)\/(pods|secrets)(?:\/([^/]+))?$/.exec(path);
    if (!m) return this.send(res, 404, status(404, 'NotFound', `no route ${path}`));
    const [, namespace, kindRaw, name] = m as unknown as [string, string, Kind, string | undefined];
    const kind = kindRaw;
    if (method === 'GET' && !name && url.searchParams.get('watch') === 'true') {
      return this.watch(kind, namespace, url, res);
    }
    if (method === 'GET' && !name) {
      const selector = parseSelector(url.searchParams.get('labelSelector'));
      const items = this.list(kind, namespace).filter((o) => matches(o, selector));
      return this.send(res, 200, {
        kind: kind === 'jobs' ? 'JobList' : kind === 'pods' ? 'PodList' : 'SecretList',
        apiVersion: kind === 'jobs' ? 'batch/v1' : 'v1',
        metadata: { resourceVersion: String(this.rv) },
        items,
      });
    }
    if (method === 'GET' && name) {
      const obj = this.get(kind, namespace, name);
      return obj
        ? this.send(res, 200, obj)
        : this.send(res, 404, status(404, 'NotFound', `${kind} "${name}" not found`));
    }
    if (method === 'POST' && !name) {
      const obj = await this.body(req);
      const objName = obj.metadata?.name as string | undefined;
      if (!objName) return this.send(res, 422, status(422, 'Invalid', 'metadata.name: Required value'));
      if (this.get(kind, namespace, objName)) {
        if (kind === 'jobs') this.conflicts++;
        return this.send(res, 409, status(409, 'AlreadyExists', `${kind} "${objName}" already exists`));
      }
      obj.metadata = {
        ...obj.metadata,
        namespace,
        uid: randomUUID(),
        creationTimestamp: new Date().toISOString(),
        generation: 1,
      };
      if (kind === 'jobs') obj.status = {};
      const created = this.put(kind, obj, 'ADDED');
      if (kind === 'jobs') {
        this.createdJobs.push({ name: objName, labels: { ...(obj.metadata.labels ?? {}) }, at: Date.now() });
      }
      if (fault?.afterApply) {
        if (fault.effect === 'hang') return;
        if (fault.effect === 'cut') return void req.socket.destroy();
        return this.send(
          res,
          fault.effect,
          status(fault.effect, REASONS[fault.effect] ?? 'Error', 'injected failure'),
        );
      }
      if (kind === 'jobs' && this.holdCreates) {
        this.held.push(() => this.send(res, 201, created));
        return;
      }
      return this.send(res, 201, created);
    }
    if (method === 'DELETE' && name) {
      const obj = this.get(kind, namespace, name);
      if (!obj) return this.send(res, 404, status(404, 'NotFound', `${kind} "${name}" not found`));
      this.remove(kind, namespace, name);
      return this.send(res, 200, { kind: 'Status', apiVersion: 'v1', status: 'Success', metadata: {} });
    }
    return this.send(res, 405, status(405, 'MethodNotAllowed', `${method} ${path}`));
  }

  private watch(kind: Kind, namespace: string, url: URL, res: ServerResponse): void {
    const selector = parseSelector(url.searchParams.get('labelSelector'));
    const fromRaw = url.searchParams.get('resourceVersion');
    const bookmarks = url.searchParams.get('allowWatchBookmarks') === 'true';
    const timeoutSeconds = Number(url.searchParams.get('timeoutSeconds') ?? 0);
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    const w: Watcher = { kind, namespace, selector, res, bookmarks, timers: [] };
    const from = fromRaw && fromRaw !== '0' ? Number(fromRaw) : undefined;
    if (from !== undefined && from < this.compactedBelow) {
      // Like the API server: 200, then an ERROR event with a 410 Status, then the end of the stream.
      res.write(
        `${JSON.stringify({ type: 'ERROR', object: status(410, 'Expired', `too old resource version: ${from} (${this.compactedBelow})`) })}\n`,
      );
      res.end();
      return;
    }
    this.watchers.add(w);
    res.on('close', () => this.endWatch(w));
    if (from === undefined) {
      for (const o of this.list(kind, namespace).filter((x) => matches(x, selector)))
        this.writeEvent(w, 'ADDED', o);
    } else {
      for (const e of this.history) {
        if (
          e.rv > from &&
          e.kind === kind &&
          e.object.metadata.namespace === namespace &&
          matches(e.object, selector)
        ) {
          this.writeEvent(w, e.type, e.object);
        }
      }
    }
    if (bookmarks) {
      const tick = () => {
        const t = setTimeout(() => {
          this.writeEvent(w, 'BOOKMARK', {
            kind: kind === 'jobs' ? 'Job' : kind === 'pods' ? 'Pod' : 'Secret',
            apiVersion: kind === 'jobs' ? 'batch/v1' : 'v1',
            metadata: { resourceVersion: String(this.rv) },
          });
          tick();
        }, this.bookmarkMs);
        w.timers.push(t);
      };
      tick();
    }
    if (timeoutSeconds > 0) w.timers.push(setTimeout(() => this.endWatch(w), timeoutSeconds * 1000));
  }
}
