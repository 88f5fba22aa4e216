/**
 * Stack configuration: the ONLY module that reads Pulumi config.
 *
 * `loadStackConfig()` reads the raw `jobplane:*` values of the current stack and hands them to
 * `parseStackConfig()`, a pure function over a plain record, so tests can call it directly.
 * Environment differences are data here (defaults derived from `environment`), never `if (prod)`
 * scattered through the components.
 */
import * as pulumi from '@pulumi/pulumi';
import { ADDON_CHARTS, ADDON_IDS, EXACT_SEMVER, type AddonId } from './addon-charts.js';

export const CONFIG_NAMESPACE = 'jobplane';
export const CLUSTER_KINDS = ['kind', 'eks'] as const;
export type ClusterKind = (typeof CLUSTER_KINDS)[number];
export const ENVIRONMENTS = ['dev', 'staging', 'prod'] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

/** The Git repository Argo CD syncs (fixed by the GitOps contract with infra/). */
export const GIT_REPO_URL = 'https://github.com/jobplane/jobplane.git';
/** Namespaces the constructs reference platform Secrets in. */
export const PLATFORM_NAMESPACES = ['jobplane', 'jobplane-jobs'] as const;

/** Every key `parseStackConfig` understands (without the `jobplane:` prefix). */
export const CONFIG_KEYS = [
  'cluster',
  'environment',
  'project',
  'managedBy',
  'clusterName',
  'region',
  'kubernetesVersion',
  'kindNodeImage',
  'kindWorkers',
  'nodeMin',
  'nodeMax',
  'nodeDesired',
  'nodeInstanceTypes',
  'vpcCidr',
  'azCount',
  'singleNatGateway',
  'apiPublicAccessCidrs',
  'redis',
  'redisNodeType',
  'postgres',
  'postgresInstanceClass',
  'postgresStorageGb',
  'postgresVersion',
  'backupRetentionDays',
  'deletionProtection',
  'irsaNamespace',
  'irsaServiceAccount',
  'apiClient',
  'chartVersions',
  'ecrRepository',
] as const;
export type ConfigKey = (typeof CONFIG_KEYS)[number];
export type RawStackConfig = Partial<Record<ConfigKey, string>>;

interface BaseStackConfig {
  readonly environment: Environment;
  readonly project: string;
  readonly clusterName: string;
  /** Tags applied to every taggable AWS resource (and as labels where useful). */
  readonly tags: Readonly<Record<string, string>>;
  /** Pinned chart version per add-on (table default unless overridden). */
  readonly chartVersions: Readonly<Record<AddonId, string>>;
  readonly kubernetesVersion: string;
  /** Client name used in the generated `JOBPLANE_API_KEYS` entry (`client:key`). */
  readonly apiClient: string;
}

export interface KindStackConfig extends BaseStackConfig {
  readonly cluster: 'kind';
  readonly kind: { readonly nodeImage: string; readonly workers: number };
}

/** The EKS settings of a stack (`EksCluster` takes them as they are). */
export interface EksSettings {
  readonly region: string;
  readonly vpcCidr: string;
  readonly azCount: number;
  readonly singleNatGateway: boolean;
  readonly apiPublicAccessCidrs: readonly string[];
  readonly nodes: {
    readonly min: number;
    readonly max: number;
    readonly desired: number;
    readonly instanceTypes: readonly string[];
  };
  readonly irsa: { readonly namespace: string; readonly serviceAccount: string };
  readonly redis: { readonly enabled: boolean; readonly nodeType: string; readonly replicas: number };
  readonly postgres: {
    readonly enabled: boolean;
    readonly instanceClass: string;
    readonly storageGb: number;
    readonly version: string;
    readonly backupRetentionDays: number;
    readonly multiAz: boolean;
  };
  readonly deletionProtection: boolean;
  /** ECR repository name; the constructs' `imageRepository` ends in it. */
  readonly ecrRepository: string;
}

export interface EksStackConfig extends BaseStackConfig {
  readonly cluster: 'eks';
  readonly eks: EksSettings;
}

export type StackConfig = KindStackConfig | EksStackConfig;

/** Thrown for an invalid stack configuration; lists every problem, each naming key and value. */
export class StackConfigError extends Error {
  readonly code = 'STACK.CONFIG_INVALID';
  constructor(readonly problems: readonly string[]) {
    super(`invalid stack configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'StackConfigError';
  }
}

const k = (key: ConfigKey): string => `${CONFIG_NAMESPACE}:${key}`;
const show = (value: unknown): string => (typeof value === 'string' ? `'${value}'` : String(value));

const NAME = /^[a-z][a-z0-9-]{0,30}[a-z0-9]$/;
const REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;
const K8S_MINOR = /^1\.\d{2}$/;
const CIDR16 = /^(\d{1,3})\.(\d{1,3})\.0\.0\/16$/;
const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d|[12]\d|3[0-2])$/;
const INSTANCE_TYPE = /^[a-z][a-z0-9-]*\.[a-z0-9]+$/;
const K8S_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Collects problems while reading typed values out of the raw record. */
class Reader {
  readonly problems: string[] = [];
  constructor(private readonly raw: RawStackConfig) {}

  str(key: ConfigKey, fallback: string, pattern?: RegExp, rule = 'is not valid'): string {
    const v = this.raw[key];
    if (v === undefined || v === '') return fallback;
    if (pattern && !pattern.test(v)) this.problems.push(`${k(key)} (${show(v)}) ${rule}`);
    return v;
  }

  required(key: ConfigKey, why: string): string | undefined {
    const v = this.raw[key];
    if (v === undefined || v === '') {
      this.problems.push(`${k(key)} is required ${why}`);
      return undefined;
    }
    return v;
  }

  oneOf<T extends string>(key: ConfigKey, allowed: readonly T[], fallback?: T): T | undefined {
    const v = this.raw[key];
    if (v === undefined || v === '') {
      if (fallback === undefined) this.problems.push(`${k(key)} is required (one of ${allowed.join(', ')})`);
      return fallback;
    }
    if (!(allowed as readonly string[]).includes(v)) {
      this.problems.push(`${k(key)} (${show(v)}) must be one of ${allowed.join(', ')}`);
      return fallback;
    }
    return v as T;
  }

  int(key: ConfigKey, fallback: number, min: number, max: number): number {
    const v = this.raw[key];
    if (v === undefined || v === '') return fallback;
    const n = Number(v);
    if (!/^-?\d+$/.test(v.trim()) || !Number.isSafeInteger(n)) {
      this.problems.push(`${k(key)} (${show(v)}) must be an integer`);
      return fallback;
    }
    if (n < min || n > max) {
      this.problems.push(`${k(key)} (${n}) must be between ${min} and ${max}`);
      return fallback;
    }
    return n;
  }

  bool(key: ConfigKey, fallback: boolean): boolean {
    const v = this.raw[key];
    if (v === undefined || v === '') return fallback;
    if (v === 'true') return true;
    if (v === 'false') return false;
    this.problems.push(`${k(key)} (${show(v)}) must be true or false`);
    return fallback;
  }

  /** A YAML list (Pulumi hands it over as JSON) or a comma-separated string. */
  list(key: ConfigKey, fallback: readonly string[], item: RegExp, rule: string): readonly string[] {
    const v = this.raw[key];
    if (v === undefined || v === '') return fallback;
    let items: unknown;
    if (v.trim().startsWith('[')) {
      try {
        items = JSON.parse(v);
      } catch {
        this.problems.push(`${k(key)} (${show(v)}) is not a valid list`);
        return fallback;
      }
    } else {
      items = v.split(',').map((s) => s.trim());
    }
    if (!Array.isArray(items) || items.length === 0) {
      this.problems.push(`${k(key)} (${show(v)}) must be a non-empty list`);
      return fallback;
    }
    for (const i of items) {
      if (typeof i !== 'string' || !item.test(i)) this.problems.push(`${k(key)} item (${show(i)}) ${rule}`);
    }
    return items as string[];
  }

  chartVersions(): Record<AddonId, string> {
    const versions = Object.fromEntries(ADDON_IDS.map((id) => [id, ADDON_CHARTS[id].version])) as Record<
      AddonId,
      string
    >;
    const v = this.raw.chartVersions;
    if (v === undefined || v === '') return versions;
    let parsed: unknown;
    try {
      parsed = JSON.parse(v);
    } catch {
      this.problems.push(`${k('chartVersions')} (${show(v)}) must be a map of add-on to version`);
      return versions;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      this.problems.push(`${k('chartVersions')} (${show(v)}) must be a map of add-on to version`);
      return versions;
    }
    for (const [id, version] of Object.entries(parsed)) {
      if (!(ADDON_IDS as string[]).includes(id)) {
        this.problems.push(`${k('chartVersions')}.${id} is not an add-on (one of ${ADDON_IDS.join(', ')})`);
      } else if (typeof version !== 'string' || !EXACT_SEMVER.test(version)) {
        this.problems.push(
          `${k('chartVersions')}.${id} (${show(version)}) must be an exact version such as '1.2.3', not a range`,
        );
      } else {
        versions[id as AddonId] = version;
      }
    }
    return versions;
  }
}

function validCidr(cidr: string): boolean {
  const m = CIDR.exec(cidr);
  return m !== null && m.slice(1, 5).every((o) => Number(o) <= 255);
}

/**
 * Validates and types a stack's raw `jobplane:*` config.
 * @param raw values as strings, keyed without the `jobplane:` prefix (what `pulumi.Config#get` returns)
 * @param stackName the Pulumi stack name; the default for `environment`
 * @throws StackConfigError listing every problem, each naming the key and the value
 */
export function parseStackConfig(raw: RawStackConfig, stackName: string): StackConfig {
  const r = new Reader(raw);
  for (const key of Object.keys(raw)) {
    if (!(CONFIG_KEYS as readonly string[]).includes(key))
      r.problems.push(`${CONFIG_NAMESPACE}:${key} is not a known key`);
  }
  const cluster = r.oneOf('cluster', CLUSTER_KINDS);
  const envFallback = (ENVIRONMENTS as readonly string[]).includes(stackName)
    ? (stackName as Environment)
    : undefined;
  const environment = r.oneOf('environment', ENVIRONMENTS, envFallback) ?? 'dev';
  const project = r.str('project', 'jobplane', NAME, 'must be lower-case letters, digits and dashes');
  const managedBy = r.str('managedBy', 'pulumi');
  const clusterName = r.str(
    'clusterName',
    `${project}-${environment}`,
    NAME,
    'must be 2-32 lower-case letters, digits and dashes, starting with a letter',
  );
  const kubernetesVersion = r.str(
    'kubernetesVersion',
    '1.34',
    K8S_MINOR,
    "must be a minor version such as '1.34'",
  );
  const apiClient = r.str(
    'apiClient',
    'default',
    /^[a-zA-Z0-9_.-]{1,64}$/,
    'must match [a-zA-Z0-9_.-]{1,64}',
  );
  const chartVersions = r.chartVersions();
  const base = {
    environment,
    project,
    clusterName,
    tags: { project, environment, 'managed-by': managedBy },
    chartVersions,
    kubernetesVersion,
    apiClient,
  };

  let config: StackConfig | undefined;
  if (cluster === 'kind') {
    config = {
      ...base,
      cluster,
      kind: {
        nodeImage: r.str(
          'kindNodeImage',
          `kindest/node:v${kubernetesVersion}.0`,
          /^[a-z0-9./-]+(:[\w.-]+)?(@sha256:[a-f0-9]{64})?$/,
          'must be an image reference',
        ),
        workers: r.int('kindWorkers', 1, 0, 5),
      },
    };
  } else if (cluster === 'eks') {
    const prod = environment === 'prod';
    const region = r.required('region', "when jobplane:cluster is 'eks'");
    if (region !== undefined && !REGION.test(region)) {
      r.problems.push(`${k('region')} (${show(region)}) is not an AWS region such as 'eu-west-1'`);
    }
    const vpcCidr = r.str('vpcCidr', '10.0.0.0/16', CIDR16, "must be a /16 such as '10.0.0.0/16'");
    if (CIDR16.test(vpcCidr) && !validCidr(vpcCidr))
      r.problems.push(`${k('vpcCidr')} (${show(vpcCidr)}) is not valid`);
    const min = r.int('nodeMin', prod ? 3 : 2, 1, 100);
    const max = r.int('nodeMax', Math.max(min, prod ? 6 : 4), 1, 100);
    if (max < min) r.problems.push(`${k('nodeMax')} (${max}) must be ≥ ${k('nodeMin')} (${min})`);
    const desired = r.int('nodeDesired', min, 1, 100);
    if (desired < min || desired > max) {
      r.problems.push(
        `${k('nodeDesired')} (${desired}) must be between ${k('nodeMin')} (${min}) and ${k('nodeMax')} (${max})`,
      );
    }
    const deletionProtection = r.bool('deletionProtection', prod);
    if (prod && !deletionProtection) {
      r.problems.push(`${k('deletionProtection')} (false) must be true when ${k('environment')} is 'prod'`);
    }
    config = {
      ...base,
      cluster,
      eks: {
        region: region ?? '',
        vpcCidr,
        azCount: r.int('azCount', prod ? 3 : 2, 2, 6),
        singleNatGateway: r.bool('singleNatGateway', !prod),
        apiPublicAccessCidrs: r.list('apiPublicAccessCidrs', ['0.0.0.0/0'], CIDR, 'is not a CIDR'),
        nodes: {
          min,
          max,
          desired,
          instanceTypes: r.list(
            'nodeInstanceTypes',
            ['t3.large'],
            INSTANCE_TYPE,
            'is not an EC2 instance type',
          ),
        },
        irsa: {
          namespace: r.str('irsaNamespace', 'jobplane', K8S_NAME, 'is not a Kubernetes name'),
          serviceAccount: r.str('irsaServiceAccount', 'jobplane-api', K8S_NAME, 'is not a Kubernetes name'),
        },
        redis: {
          enabled: r.bool('redis', true),
          nodeType: r.str(
            'redisNodeType',
            'cache.t4g.small',
            /^cache\.[a-z0-9]+\.[a-z0-9]+$/,
            'is not a cache node type',
          ),
          replicas: prod ? 2 : 1,
        },
        postgres: {
          enabled: r.bool('postgres', true),
          instanceClass: r.str(
            'postgresInstanceClass',
            'db.t4g.small',
            /^db\.[a-z0-9]+\.[a-z0-9]+$/,
            'is not a DB instance class',
          ),
          storageGb: r.int('postgresStorageGb', 20, 20, 65536),
          version: r.str(
            'postgresVersion',
            '17',
            /^\d{2}(\.\d+)?$/,
            "must be a major (or major.minor) version such as '17'",
          ),
          backupRetentionDays: r.int('backupRetentionDays', prod ? 14 : 7, 1, 35),
          multiAz: prod,
        },
        deletionProtection,
        ecrRepository: r.str(
          'ecrRepository',
          project,
          /^[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/,
          'is not an ECR repository name',
        ),
      },
    };
  }
  if (r.problems.length > 0 || config === undefined) throw new StackConfigError(r.problems);
  return config;
}

/** Reads the current stack's `jobplane:*` config (the only `new pulumi.Config()` in the program). */
export function loadStackConfig(): StackConfig {
  const cfg = new pulumi.Config(CONFIG_NAMESPACE);
  const raw: Record<string, string> = {};
  // Every `jobplane:*` key of the stack, so a misspelt key fails instead of being ignored.
  for (const fullKey of Object.keys(pulumi.runtime.allConfig())) {
    if (!fullKey.startsWith(`${CONFIG_NAMESPACE}:`)) continue;
    const key = fullKey.slice(CONFIG_NAMESPACE.length + 1);
    const v = cfg.get(key);
    if (v !== undefined) raw[key] = v;
  }
  return parseStackConfig(raw as RawStackConfig, pulumi.getStack());
}
