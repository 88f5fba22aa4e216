/**
 * Image-equivalent smoke run: replays runtime/Dockerfile without Docker, then runs the image's
 * entrypoint as a user would.
 *
 * No Docker engine is available where the tests run, so the recipe is checked by executing it:
 * every stage's WORKDIR / ENV / ARG / COPY (from the build context, honouring .dockerignore, or
 * `--from=<stage>`) / RUN instruction is performed in a private directory that stands in for the
 * stage's root filesystem; the final stage's ENTRYPOINT is mapped onto that directory. What this
 * cannot check: the base images themselves (the host's Node.js stands in for the distroless one),
 * layer caching, and USER beyond running the processes as that numeric uid when we are root.
 *
 * Then: `jobplane --help`, and one job end to end — `migrate` into a private PostgreSQL schema,
 * `api` (RELAY_IN_PROCESS=true) and `worker` on free ports with a private BullMQ prefix, submit one
 * job over HTTP (`demo.sleep` of the default catalog, or the one given), wait for
 * JOB_STATE_SUCCEEDED, SIGTERM both and expect exit 0. A Dockerfile whose `FROM` names an image
 * replayed before (a team's image on the platform's, examples/team-image/Dockerfile) starts from
 * that image's filesystem and metadata.
 *
 * Usage: scripts/image-smoke.sh [--keep] [--context=head]
 *   env: DATABASE_URL, REDIS_URL (default 127.0.0.1); IMAGE_SMOKE_CONTEXT=head.
 * The build context is the working tree, as for `docker build .`; `head` builds the committed tree
 * instead (`git archive HEAD`), as CI does from a fresh checkout.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join, posix, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import type * as IoRedisModule from 'ioredis';
import type PgModule from 'pg';
import {
  DockerfileParser,
  type Copy,
  type From,
  type JSONInstruction,
  type PropertyInstruction,
} from 'dockerfile-ast';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DOCKERFILE = join(REPO_ROOT, 'runtime', 'Dockerfile');

// ---------------------------------------------------------------------------------------------
// Dockerfile → plan

export type Step =
  | { kind: 'workdir'; path: string }
  | { kind: 'env'; vars: Record<string, string> }
  | { kind: 'arg'; name: string; value: string | undefined }
  | { kind: 'copy'; from: string | undefined; sources: string[]; dest: string; line: number }
  | { kind: 'run'; command: string; line: number };

export interface Stage {
  name: string;
  base: string;
  steps: Step[];
  user: string | undefined;
  entrypoint: string[] | undefined;
  cmd: string[] | undefined;
  labels: Record<string, string>;
  expose: string[];
}

/** Instructions the replay understands; anything else in a stage is refused, not ignored. */
const METADATA_ONLY = new Set(['LABEL', 'USER', 'EXPOSE', 'ENTRYPOINT', 'CMD']);

function unquote(v: string): string {
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
}

function jsonArgs(instr: JSONInstruction): string[] {
  const strings = instr.getJSONStrings();
  if (strings.length === 0)
    throw new Error(
      `line ${instr.getRange().start.line + 1}: ${instr.getKeyword()} must use the JSON (exec) form`,
    );
  return strings.map((s) => s.getJSONValue());
}

export function planDockerfile(text: string): Stage[] {
  const df = DockerfileParser.parse(text);
  const stages: Stage[] = [];
  let current: Stage | undefined;
  for (const instr of df.getInstructions()) {
    const kw = instr.getKeyword();
    const line = instr.getRange().start.line + 1;
    if (kw === 'FROM') {
      const from = instr as From;
      current = {
        name: from.getBuildStage() ?? String(stages.length),
        base: from.getImage() ?? '',
        steps: [],
        user: undefined,
        entrypoint: undefined,
        cmd: undefined,
        labels: {},
        expose: [],
      };
      stages.push(current);
      continue;
    }
    if (!current) throw new Error(`line ${line}: ${kw} before the first FROM is not supported by the replay`);
    switch (kw) {
      case 'WORKDIR':
        current.steps.push({ kind: 'workdir', path: instr.getArgumentsContent() ?? '/' });
        break;
      case 'ENV': {
        const vars: Record<string, string> = {};
        for (const p of (instr as PropertyInstruction).getProperties())
          vars[p.getName()] = unquote(p.getValue() ?? '');
        current.steps.push({ kind: 'env', vars });
        break;
      }
      case 'ARG':
        for (const p of (instr as PropertyInstruction).getProperties()) {
          const v = p.getValue();
          current.steps.push({ kind: 'arg', name: p.getName(), value: v === null ? undefined : unquote(v) });
        }
        break;
      case 'COPY': {
        const copy = instr as Copy;
        const flags = copy.getFlags().map((f) => f.getName());
        const unsupported = flags.filter((f) => f !== 'from');
        if (unsupported.length > 0)
          throw new Error(`line ${line}: COPY --${unsupported.join(', --')} is not supported by the replay`);
        const args = copy.getArguments().map((a) => a.getValue());
        const dest = args.pop();
        if (!dest || args.length === 0)
          throw new Error(`line ${line}: COPY needs a source and a destination`);
        current.steps.push({
          kind: 'copy',
          from: copy.getFromFlag()?.getValue() ?? undefined,
          sources: args,
          dest,
          line,
        });
        break;
      }
      case 'RUN': {
        const command = instr.getArgumentsContent();
        if (!command || command.trimStart().startsWith('['))
          throw new Error(`line ${line}: RUN must use the shell form`);
        current.steps.push({ kind: 'run', command: command.replace(/\\\r?\n/g, ' '), line });
        break;
      }
      case 'LABEL':
        for (const p of (instr as PropertyInstruction).getProperties())
          current.labels[p.getName()] = unquote(p.getValue() ?? '');
        break;
      case 'USER':
        current.user = instr.getArgumentsContent() ?? undefined;
        break;
      case 'EXPOSE':
        current.expose.push(...instr.getArguments().map((a) => a.getValue()));
        break;
      case 'ENTRYPOINT':
        current.entrypoint = jsonArgs(instr as JSONInstruction);
        break;
      case 'CMD':
        current.cmd = jsonArgs(instr as JSONInstruction);
        break;
      default:
        if (!METADATA_ONLY.has(kw))
          throw new Error(
            `line ${line}: ${kw} is not supported by the replay (keep the Dockerfile replayable)`,
          );
    }
  }
  return stages;
}

// ---------------------------------------------------------------------------------------------
// .dockerignore

/** Docker's pattern syntax (Go filepath.Match plus `**`), compiled to a RegExp over posix paths. */
function globToRegExp(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        i++;
        if (pattern[i + 1] === '/') {
          i++;
          re += '(?:.*/)?';
        } else re += '.*';
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export function dockerignoreMatcher(text: string): (relPath: string) => boolean {
  const rules = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = posix
        .normalize((negate ? l.slice(1) : l).trim())
        .replace(/^\/+/, '')
        .replace(/\/+$/, '');
      return { negate, re: globToRegExp(pattern) };
    });
  return (relPath: string) => {
    // A path is excluded when it, or one of its parent folders, matches the last applicable rule.
    const parts = relPath.split('/');
    let excluded = false;
    for (const rule of rules) {
      for (let n = 1; n <= parts.length; n++) {
        if (rule.re.test(parts.slice(0, n).join('/'))) {
          excluded = !rule.negate;
          break;
        }
      }
    }
    return excluded;
  };
}

// ---------------------------------------------------------------------------------------------
// Replay

/** What the base images provide, mapped onto this machine (the only thing taken from the host). */
function baseProvides(base: string): Record<string, string> {
  if (/^node:\d+/.test(base)) return {};
  if (/^gcr\.io\/distroless\/nodejs\d+-/.test(base)) return { '/nodejs/bin/node': process.execPath };
  throw new Error(`base image '${base}' is unknown to the replay; teach baseProvides() what it provides`);
}

function expand(value: string, vars: Record<string, string>): string {
  return value.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (_m, a: string, b: string) => vars[a ?? b] ?? '',
  );
}

export interface ReplayResult {
  /** Root directory standing in for each stage's filesystem. */
  roots: Record<string, string>;
  final: Stage;
  /** ENTRYPOINT mapped onto this machine. */
  entrypoint: string[];
  workdir: string;
  env: Record<string, string>;
  timings: Record<string, number>;
}

function hostEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    // npm exports its own config to child processes; a replayed `npm ci` must not inherit it.
    if (v !== undefined && !/^npm_/i.test(k) && k !== 'INIT_CWD' && k !== 'NODE_OPTIONS') env[k] = v;
  }
  return env;
}

function run(command: string, cwd: string, env: Record<string, string>, line: number): Promise<void> {
  return new Promise((ok, fail) => {
    const child = spawn('sh', ['-c', command], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', fail);
    child.on('close', (code) =>
      code === 0
        ? ok()
        : fail(new Error(`Dockerfile line ${line}: RUN ${command} exited ${code}\n${out.slice(-4000)}`)),
    );
  });
}

function copyInto(
  src: string,
  destPath: string,
  destIsDir: boolean,
  filter?: (abs: string) => boolean,
): void {
  const st = lstatSync(src);
  const target = st.isDirectory() || !destIsDir ? destPath : join(destPath, basename(src));
  mkdirSync(st.isDirectory() ? target : dirname(target), { recursive: true });
  cpSync(src, target, {
    recursive: true,
    verbatimSymlinks: true,
    ...(filter ? { filter: (s: string) => filter(s) } : {}),
  });
}

export async function replayDockerfile(opts: {
  dockerfile?: string;
  context?: string;
  workDir: string;
  buildArgs?: Record<string, string>;
  log?: (msg: string) => void;
  /**
   * Images replayed before, by the name a `FROM` uses (e.g. `jobplane:dev` for a team image built
   * on the platform's): such a stage starts from a copy of that image's filesystem, ENV, WORKDIR,
   * USER, ENTRYPOINT and CMD, as `FROM` does.
   */
  images?: Record<string, ReplayResult>;
}): Promise<ReplayResult> {
  const context = opts.context ?? REPO_ROOT;
  const log = opts.log ?? (() => undefined);
  const stages = planDockerfile(readFileSync(opts.dockerfile ?? DOCKERFILE, 'utf8'));
  const ignoreFile = join(context, '.dockerignore');
  const ignored = dockerignoreMatcher(existsSync(ignoreFile) ? readFileSync(ignoreFile, 'utf8') : '');
  const roots: Record<string, string> = {};
  const timings: Record<string, number> = {};
  let last: { stage: Stage; workdir: string; env: Record<string, string> } | undefined;
  const bases: Record<string, string> = {};

  for (const stage of stages) {
    const started = Date.now();
    const root = join(opts.workDir, 'stages', stage.name);
    mkdirSync(root, { recursive: true });
    roots[stage.name] = root;
    const image = opts.images?.[stage.base];
    let env: Record<string, string> = {};
    let workdir = '/';
    if (image) {
      const imageRoot = image.roots[image.final.name] as string;
      cpSync(imageRoot, root, { recursive: true, verbatimSymlinks: true });
      env = { ...image.env };
      workdir = posix.join('/', relative(imageRoot, image.workdir).split('\\').join('/'));
      stage.user ??= image.final.user;
      if (!stage.entrypoint) {
        stage.entrypoint = image.final.entrypoint;
        stage.cmd ??= image.final.cmd;
      }
      bases[stage.name] = image.final.base;
    } else {
      bases[stage.name] = stage.base;
    }
    baseProvides(bases[stage.name] as string);
    const args: Record<string, string> = {};
    const inRoot = (p: string) => join(root, posix.resolve(workdir, p));
    for (const step of stage.steps) {
      const vars = { ...args, ...env };
      switch (step.kind) {
        case 'workdir':
          workdir = posix.resolve(workdir, expand(step.path, vars));
          mkdirSync(join(root, workdir), { recursive: true });
          break;
        case 'env':
          for (const [k, v] of Object.entries(step.vars)) env[k] = expand(v, vars);
          break;
        case 'arg':
          args[step.name] = opts.buildArgs?.[step.name] ?? step.value ?? '';
          break;
        case 'copy': {
          const dest = expand(step.dest, vars);
          const destIsDir = dest.endsWith('/') || step.sources.length > 1;
          const destPath = inRoot(dest);
          for (const source of step.sources) {
            if (step.from !== undefined) {
              const fromRoot = roots[step.from];
              if (!fromRoot)
                throw new Error(
                  `Dockerfile line ${step.line}: COPY --from=${step.from}: no such earlier stage`,
                );
              const src = join(fromRoot, posix.resolve('/', source));
              if (!existsSync(src))
                throw new Error(
                  `Dockerfile line ${step.line}: COPY --from=${step.from} ${source}: not found in that stage`,
                );
              copyInto(src, destPath, destIsDir);
            } else {
              const rel = posix.normalize(source).replace(/^\/+/, '');
              const src = join(context, rel);
              if (!existsSync(src) || ignored(rel)) {
                throw new Error(
                  `Dockerfile line ${step.line}: COPY ${source}: not in the build context${ignored(rel) ? ' (.dockerignore)' : ''}`,
                );
              }
              copyInto(
                src,
                destPath,
                destIsDir,
                (abs) => !ignored(relative(context, abs).split('\\').join('/')),
              );
            }
          }
          break;
        }
        case 'run': {
          const cwd = join(root, workdir);
          log(`[${stage.name}] RUN ${step.command}`);
          const t = Date.now();
          await run(
            step.command,
            cwd,
            {
              ...hostEnv(),
              ...args,
              ...env,
              npm_config_prefer_offline: 'true',
              npm_config_update_notifier: 'false',
            },
            step.line,
          );
          timings[`${stage.name}: ${step.command.slice(0, 40)}`] = Date.now() - t;
          break;
        }
      }
    }
    timings[`stage ${stage.name}`] = Date.now() - started;
    last = { stage, workdir, env };
  }
  if (!last) throw new Error('the Dockerfile has no stage');
  const { stage: final } = last;
  if (!final.entrypoint) throw new Error('the final stage has no ENTRYPOINT');
  const provides = baseProvides(bases[final.name] ?? final.base);
  const finalRoot = roots[final.name] as string;
  const entrypoint = final.entrypoint.map((a) => provides[a] ?? (a.startsWith('/') ? join(finalRoot, a) : a));
  return { roots, final, entrypoint, workdir: join(finalRoot, last.workdir), env: last.env, timings };
}

// ---------------------------------------------------------------------------------------------
// Running the replayed image

export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? ok(addr.port) : fail(new Error('no port'))));
    });
  });
}

interface Proc {
  name: string;
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function start(
  image: ReplayResult,
  args: string[],
  env: Record<string, string>,
  name: string,
  uid?: number,
): Proc {
  const [cmd, ...rest] = image.entrypoint as [string, ...string[]];
  const child = spawn(cmd, [...rest, ...args], {
    cwd: image.workdir,
    // The image's ENV plus the container's env only: nothing from the host leaks in but PATH.
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...image.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(uid !== undefined ? { uid, gid: uid } : {}),
  });
  let out = '';
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((ok) => child.on('close', (code) => ok(code)));
  return { name, child, output: () => out, exited };
}

async function waitFor<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
  procs: Proc[] = [],
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr = '';
  while (Date.now() < deadline) {
    for (const p of procs) {
      if (p.child.exitCode !== null)
        throw new Error(`${p.name} exited ${p.child.exitCode} while waiting for ${what}:\n${p.output()}`);
    }
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      lastErr = String(err);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const logs = procs.map((p) => `--- ${p.name}\n${p.output()}`).join('\n');
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} ${lastErr}\n${logs}`);
}

export interface SmokeReport {
  help: string;
  jobId: string;
  states: string[];
  /** The job's result, as GET /v1/jobs/{id} answered it. */
  result: unknown;
  exitCodes: Record<string, number | null>;
  timings: Record<string, number>;
  nodeModulesPackages: number;
  /** Metric families (`name type`) each process exposed on /metrics after the job. */
  metrics: Record<'api' | 'worker', string[]>;
}

/** The job a smoke run submits; the default image runs the example catalog. */
export interface SmokeJob {
  readonly type: string;
  readonly payload: Record<string, unknown>;
  /** When given, the job's result must equal it. */
  readonly result?: Record<string, unknown>;
}

export const DEFAULT_SMOKE_JOB: SmokeJob = {
  type: 'demo.sleep',
  payload: { durationMs: 100, failureRate: 0 },
};

/** `jobplane --help` and one job (default: demo.sleep) end to end against the replayed image. */
export async function smokeImage(
  image: ReplayResult,
  opts: {
    databaseUrl: string;
    redisUrl: string;
    job?: SmokeJob;
    log?: (m: string) => void;
    /** Called after the job succeeded, while api and worker still run (e.g. to scrape them). */
    whileRunning?: (ports: { api: number; worker: number }) => Promise<void>;
  },
): Promise<SmokeReport> {
  const log = opts.log ?? (() => undefined);
  const job = opts.job ?? DEFAULT_SMOKE_JOB;
  const timings: Record<string, number> = {};
  const appRoot = join(image.roots[image.final.name] as string, 'app');
  // Run as the image's numeric USER when we can (we are root); proves nothing needs write access.
  const user = image.final.user?.split(':')[0];
  const uid = user && /^\d+$/.test(user) && process.getuid?.() === 0 ? Number(user) : undefined;
  if (uid !== undefined) {
    for (let d = image.roots[image.final.name] as string; d !== dirname(d); d = dirname(d)) {
      chmodSync(d, statSync(d).mode | 0o055);
      if (d === tmpdir()) break;
    }
  }

  let t = Date.now();
  const helpProc = start(image, ['--help'], {}, 'help', uid);
  const helpCode = await helpProc.exited;
  timings.help = Date.now() - t;
  if (helpCode !== 0) throw new Error(`jobplane --help exited ${helpCode}:\n${helpProc.output()}`);
  const help = helpProc.output();

  const id = randomBytes(4).toString('hex');
  const schema = `smoke_${id}`;
  const prefix = `smoke-${id}`;
  const apiKey = randomBytes(18).toString('base64url');
  const [apiPort, workerPort] = [await freePort(), await freePort()];
  const common = {
    DATABASE_URL: opts.databaseUrl,
    DATABASE_SCHEMA: schema,
    REDIS_URL: opts.redisUrl,
    QUEUE_PREFIX: prefix,
    LOG_LEVEL: 'info',
  };
  // The image's own production dependencies clean up after the run.
  const req = createRequire(join(appRoot, 'runtime', 'package.json'));
  const procs: Proc[] = [];
  const states: string[] = [];
  const exitCodes: Record<string, number | null> = {};
  const metrics: SmokeReport['metrics'] = { api: [], worker: [] };
  let jobId = '';
  let result: unknown;
  try {
    for (const round of [1, 2]) {
      t = Date.now();
      const migrate = start(image, ['migrate'], common, `migrate#${round}`, uid);
      const code = await migrate.exited;
      timings[`migrate#${round}`] = Date.now() - t;
      exitCodes[`migrate#${round}`] = code;
      if (code !== 0)
        throw new Error(`jobplane migrate (round ${round}) exited ${code}:\n${migrate.output()}`);
    }
    t = Date.now();
    const api = start(
      image,
      ['api'],
      {
        ...common,
        HOST: '127.0.0.1',
        PORT: String(apiPort),
        RELAY_IN_PROCESS: 'true',
        JOBPLANE_API_KEYS: `smoke:${apiKey}`,
      },
      'api',
      uid,
    );
    const worker = start(image, ['worker'], { ...common, METRICS_PORT: String(workerPort) }, 'worker', uid);
    procs.push(api, worker);
    const ready = (port: number) => async () =>
      (await fetch(`http://127.0.0.1:${port}/readyz`)).ok ? true : undefined;
    await waitFor('api /readyz', 60_000, ready(apiPort), procs);
    await waitFor('worker /readyz', 60_000, ready(workerPort), procs);
    timings.ready = Date.now() - t;
    t = Date.now();
    const auth = { authorization: `Bearer ${apiKey}` };
    const submit = await fetch(`http://127.0.0.1:${apiPort}/v1/jobs`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json', 'idempotency-key': `smoke-${id}` },
      body: JSON.stringify({ type: job.type, payload: job.payload }),
    });
    const submitted = (await submit.json()) as { job?: { id?: string; state?: string } };
    if (submit.status >= 300 || !submitted.job?.id)
      throw new Error(`POST /v1/jobs answered ${submit.status}: ${JSON.stringify(submitted)}`);
    jobId = submitted.job.id;
    log(`submitted ${jobId} (${submitted.job.state})`);
    await waitFor(
      `job ${jobId} to succeed`,
      90_000,
      async () => {
        const res = await fetch(`http://127.0.0.1:${apiPort}/v1/jobs/${jobId}`, { headers: auth });
        const body = (await res.json()) as { job?: { state?: string; result?: unknown } };
        const state = body.job?.state ?? `HTTP ${res.status}`;
        if (states.at(-1) !== state) states.push(state);
        if (/FAILED|DEAD_LETTERED|CANCELLED/.test(state))
          throw new Error(`job ended ${state}: ${JSON.stringify(body)}`);
        if (state !== 'JOB_STATE_SUCCEEDED') return undefined;
        result = body.job?.result;
        if (job.result && !isDeepStrictEqual(result, job.result))
          throw new Error(`job result ${JSON.stringify(result)}, expected ${JSON.stringify(job.result)}`);
        return true;
      },
      procs,
    );
    timings.job = Date.now() - t;

    // After the job: counters and histograms have series now. Families by `# TYPE` line.
    for (const [name, port] of [
      ['api', apiPort],
      ['worker', workerPort],
    ] as const) {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      const body = await res.text();
      if (!res.ok) throw new Error(`${name} /metrics answered ${res.status}: ${body.slice(0, 200)}`);
      metrics[name] = [...body.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => `${m[1]} ${m[2]}`);
    }

    if (opts.whileRunning) {
      t = Date.now();
      await opts.whileRunning({ api: apiPort, worker: workerPort });
      timings.whileRunning = Date.now() - t;
    }

    t = Date.now();
    for (const p of procs) p.child.kill('SIGTERM');
    for (const p of procs) {
      const code = await Promise.race([
        p.exited,
        new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 35_000)),
      ]);
      if (code === 'timeout')
        throw new Error(`${p.name} did not exit within 35 s of SIGTERM:\n${p.output()}`);
      exitCodes[p.name] = code;
      if (code !== 0) throw new Error(`${p.name} exited ${code} after SIGTERM:\n${p.output()}`);
    }
    timings.shutdown = Date.now() - t;
  } finally {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await cleanup(req, opts.databaseUrl, opts.redisUrl, schema, prefix).catch((err: unknown) =>
      log(`cleanup failed: ${String(err)}`),
    );
  }
  const nodeModulesPackages = readdirSync(join(appRoot, 'node_modules')).length;
  return { help, jobId, states, result, exitCodes, timings, nodeModulesPackages, metrics };
}

async function cleanup(
  req: NodeRequire,
  databaseUrl: string,
  redisUrl: string,
  schema: string,
  prefix: string,
) {
  const pg = req('pg') as typeof PgModule;
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await client.end();
  }
  const { Redis } = req('ioredis') as typeof IoRedisModule;
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

// ---------------------------------------------------------------------------------------------

/** The build context: the working tree, or the committed tree (`git archive HEAD`) in `workDir`. */
export function buildContext(kind: string | undefined, workDir: string): string {
  if (!kind || kind === 'worktree') return REPO_ROOT;
  if (kind !== 'head') throw new Error(`unknown build context '${kind}' (worktree or head)`);
  const dir = join(workDir, 'context');
  mkdirSync(dir, { recursive: true });
  execFileSync('sh', ['-c', 'git archive --format=tar HEAD | tar -x -C "$1"', 'sh', dir], { cwd: REPO_ROOT });
  return dir;
}

async function main() {
  const keep = process.argv.includes('--keep');
  const contextArg = process.argv.find((a) => a.startsWith('--context='))?.slice('--context='.length);
  const workDir = mkdtempSync(join(tmpdir(), 'jobplane-image-'));
  const log = (m: string) => console.log(`[image-smoke] ${m}`);
  const started = Date.now();
  try {
    log(`replaying runtime/Dockerfile in ${workDir}`);
    const context = buildContext(contextArg ?? process.env.IMAGE_SMOKE_CONTEXT, workDir);
    const image = await replayDockerfile({ workDir, context, log });
    log(`entrypoint: ${image.entrypoint.join(' ')}`);
    const report = await smokeImage(image, {
      databaseUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
      redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      log,
    });
    log(`job ${report.jobId}: ${report.states.join(' → ')}`);
    log(`timings (ms): ${JSON.stringify({ ...image.timings, ...report.timings })}`);
    log(`ok in ${Math.round((Date.now() - started) / 1000)} s`);
  } finally {
    if (keep) log(`kept ${workDir}`);
    else rmSync(workDir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((err: unknown) => {
    console.error(`[image-smoke] FAILED: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
