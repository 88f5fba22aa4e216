/**
 * Stack configuration: the ONLY module that reads Pulumi config.
 *
 * `loadStackConfig()` reads the raw `jobplane:*` values of the current stack and hands them to
 * `parseStackConfig()`, a pure function over a plain record, so tests can call it directly.
 *
 * - Every key has one zod schema (`FIELDS`) turning Pulumi's string into a typed value, with a
 *   message naming the key and the value.
 * - Environment differences are data: one defaults table, `ENVIRONMENT_DEFAULTS`, keyed by
 *   environment; never `if (prod)` scattered through the components.
 * - Rules across keys (min ≤ max, what prod requires) run on the merged values (`crossFieldRules`).
 * Every problem is reported at once (`StackConfigError`).
 * @see https://zod.dev/error-customization
 */
import * as pulumi from '@pulumi/pulumi';
import { z } from 'zod';
import { ADDON_CHARTS, ADDON_IDS, EXACT_SEMVER, type AddonId } from './addon-charts.js';

export const CONFIG_NAMESPACE = 'jobplane';
export const CLUSTER_KINDS = ['kind', 'eks'] as const;
export type ClusterKind = (typeof CLUSTER_KINDS)[number];
export const ENVIRONMENTS = ['dev', 'staging', 'prod'] as const;
export type Environment = (typeof ENVIRONMENTS)[number];
export const CAPACITY_TYPES = ['on-demand', 'spot'] as const;
export type CapacityType = (typeof CAPACITY_TYPES)[number];

/** The Git repository Argo CD syncs (fixed by the GitOps contract with infra/). */
export const GIT_REPO_URL = 'https://github.com/jobplane/jobplane.git';
/** Namespaces the constructs deploy into; Pulumi owns them (docs/stacks.md, "Ownership"). */
export const PLATFORM_NAMESPACES = ['jobplane', 'jobplane-jobs'] as const;

/** What differs between environments: one row per environment, read by `parseStackConfig`. */
export interface EnvironmentDefaults {
  readonly azCount: number;
  readonly singleNatGateway: boolean;
  /** `undefined`: the key is required (prod must name who may reach the EKS API). */
  readonly apiPublicAccessCidrs: readonly string[] | undefined;
  /** Whether `0.0.0.0/0` is accepted in `apiPublicAccessCidrs`. */
  readonly allowOpenApiEndpoint: boolean;
  /** The managed node group that runs the add-ons (Karpenter, Argo CD, KEDA, ...). */
  readonly nodeMin: number;
  readonly nodeMax: number;
  readonly nodeInstanceTypes: readonly string[];
  readonly redisReplicas: number;
  readonly postgresMultiAz: boolean;
  readonly backupRetentionDays: number;
  readonly deletionProtection: boolean;
  /** Whether `deletionProtection: false` is refused. */
  readonly requireDeletionProtection: boolean;
  /** Karpenter NodePool limits: sum of the capacity of the nodes it may launch. */
  readonly karpenterCpuLimit: number;
  readonly karpenterMemoryGiLimit: number;
  readonly karpenterCapacityTypes: readonly CapacityType[];
}

/**
 * The per-environment defaults. The Karpenter limits cover the scalers' maxima × requests of
 * `charts-out/<env>` with headroom (checked by stacks/test/capacity.test.ts); prod's isolated Jobs
 * request 2 CPU, so the NodePool launches nodes of ≥ `KARPENTER_MIN_INSTANCE_CPU` vCPUs.
 */
export const ENVIRONMENT_DEFAULTS: Readonly<Record<Environment, EnvironmentDefaults>> = {
  dev: {
    azCount: 2,
    singleNatGateway: true,
    apiPublicAccessCidrs: ['0.0.0.0/0'],
    allowOpenApiEndpoint: true,
    nodeMin: 2,
    nodeMax: 4,
    nodeInstanceTypes: ['t3.large'],
    redisReplicas: 1,
    postgresMultiAz: false,
    backupRetentionDays: 7,
    deletionProtection: false,
    requireDeletionProtection: false,
    karpenterCpuLimit: 16,
    karpenterMemoryGiLimit: 64,
    karpenterCapacityTypes: ['spot', 'on-demand'],
  },
  staging: {
    azCount: 2,
    singleNatGateway: true,
    apiPublicAccessCidrs: ['0.0.0.0/0'],
    allowOpenApiEndpoint: true,
    nodeMin: 2,
    nodeMax: 4,
    nodeInstanceTypes: ['t3.large'],
    redisReplicas: 1,
    postgresMultiAz: false,
    backupRetentionDays: 7,
    deletionProtection: false,
    requireDeletionProtection: false,
    karpenterCpuLimit: 16,
    karpenterMemoryGiLimit: 64,
    karpenterCapacityTypes: ['spot', 'on-demand'],
  },
  prod: {
    azCount: 3,
    singleNatGateway: false,
    apiPublicAccessCidrs: undefined,
    allowOpenApiEndpoint: false,
    nodeMin: 3,
    nodeMax: 6,
    nodeInstanceTypes: ['m6i.xlarge'],
    redisReplicas: 2,
    postgresMultiAz: true,
    backupRetentionDays: 14,
    deletionProtection: true,
    requireDeletionProtection: true,
    karpenterCpuLimit: 128,
    karpenterMemoryGiLimit: 512,
    karpenterCapacityTypes: ['on-demand'],
  },
};

/** Smallest node the Karpenter NodePool launches (vCPUs): a 2-CPU Job plus daemons must fit. */
export const KARPENTER_MIN_INSTANCE_CPU = 4;

const NAME = /^[a-z][a-z0-9-]{0,30}[a-z0-9]$/;
const REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;
const K8S_MINOR = /^1\.\d{2}$/;
const CIDR16 = /^(\d{1,3})\.(\d{1,3})\.0\.0\/16$/;
const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d|[12]\d|3[0-2])$/;
const INSTANCE_TYPE = /^[a-z][a-z0-9-]*\.[a-z0-9]+$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

const k = (key: string): string => `${CONFIG_NAMESPACE}:${key}`;
const show = (value: unknown): string => (typeof value === 'string' ? `'${value}'` : String(value));

// --- one zod schema per key: Pulumi's string in, a typed value (or a message naming key and value) out

const matching = (key: string, re: RegExp, rule: string) =>
  z.string().regex(re, { error: (iss) => `${k(key)} (${show(iss.input)}) ${rule}` });

const int = (key: string, min: number, max: number) =>
  z
    .string()
    .trim()
    .regex(/^-?\d+$/, { error: (iss) => `${k(key)} (${show(iss.input)}) must be an integer` })
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, { error: (iss) => `${k(key)} (${String(iss.input)}) must be between ${min} and ${max}` })
        .max(max, { error: (iss) => `${k(key)} (${String(iss.input)}) must be between ${min} and ${max}` }),
    );

const bool = (key: string) =>
  z
    .enum(['true', 'false'], { error: (iss) => `${k(key)} (${show(iss.input)}) must be true or false` })
    .transform((v) => v === 'true');

const oneOf = <const T extends readonly [string, ...string[]]>(key: string, values: T) =>
  z.enum(values, { error: (iss) => `${k(key)} (${show(iss.input)}) must be one of ${values.join(', ')}` });

/** A YAML list (Pulumi hands it over as JSON) or a comma-separated string, each item checked. */
const list = <T extends z.ZodType<string, string>>(key: string, item: T) =>
  z
    .string()
    .transform((v, ctx): unknown => {
      if (!v.trim().startsWith('[')) return v.split(',').map((s) => s.trim());
      try {
        return JSON.parse(v) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: `${k(key)} (${show(v)}) is not a valid list` });
        return z.NEVER;
      }
    })
    .pipe(
      z.array(item, { error: `${k(key)} must be a list` }).min(1, {
        error: (iss) => `${k(key)} (${show(JSON.stringify(iss.input))}) must be a non-empty list`,
      }),
    );

const cidr = (key: string) =>
  matching(`${key} item`, CIDR, 'is not a CIDR').refine(
    // A value the pattern already refused is reported once, by the pattern.
    (v) =>
      CIDR.exec(v)
        ?.slice(1, 5)
        .every((o) => Number(o) <= 255) ?? true,
    { error: (iss) => `${k(key)} item (${show(iss.input)}) is not a CIDR` },
  );

const chartVersions = z.string().transform((v, ctx): Partial<Record<AddonId, string>> => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    ctx.addIssue({
      code: 'custom',
      message: `${k('chartVersions')} (${show(v)}) must be a map of add-on to version`,
    });
    return z.NEVER;
  }
  const out: Partial<Record<AddonId, string>> = {};
  for (const [id, version] of Object.entries(parsed)) {
    if (!(ADDON_IDS as string[]).includes(id)) {
      ctx.addIssue({
        code: 'custom',
        message: `${k('chartVersions')}.${id} is not an add-on (one of ${ADDON_IDS.join(', ')})`,
      });
    } else if (typeof version !== 'string' || !EXACT_SEMVER.test(version)) {
      ctx.addIssue({
        code: 'custom',
        message: `${k('chartVersions')}.${id} (${show(version)}) must be an exact version such as '1.2.3', not a range`,
      });
    } else {
      out[id as AddonId] = version;
    }
  }
  return out;
});

/** Every key `parseStackConfig` understands (without the `jobplane:` prefix), with its schema. */
export const FIELDS = {
  cluster: oneOf('cluster', CLUSTER_KINDS),
  environment: oneOf('environment', ENVIRONMENTS),
  project: matching('project', NAME, 'must be lower-case letters, digits and dashes'),
  managedBy: z.string(),
  clusterName: matching(
    'clusterName',
    NAME,
    'must be 2-32 lower-case letters, digits and dashes, starting with a letter',
  ),
  region: matching('region', REGION, "is not an AWS region such as 'eu-west-1'"),
  kubernetesVersion: matching('kubernetesVersion', K8S_MINOR, "must be a minor version such as '1.34'"),
  kindNodeImage: matching(
    'kindNodeImage',
    /^[a-z0-9./-]+(:[\w.-]+)?(@sha256:[a-f0-9]{64})?$/,
    'must be an image reference',
  ),
  kindWorkers: int('kindWorkers', 0, 5),
  kindHttpPort: int('kindHttpPort', 1, 65535),
  kindHttpsPort: int('kindHttpsPort', 1, 65535),
  nodeMin: int('nodeMin', 1, 100),
  nodeMax: int('nodeMax', 1, 100),
  nodeDesired: int('nodeDesired', 1, 100),
  nodeInstanceTypes: list(
    'nodeInstanceTypes',
    matching('nodeInstanceTypes item', INSTANCE_TYPE, 'is not an EC2 instance type'),
  ),
  vpcCidr: matching('vpcCidr', CIDR16, "must be a /16 such as '10.0.0.0/16'").refine(
    (v) =>
      CIDR16.exec(v)
        ?.slice(1, 3)
        .every((o) => Number(o) <= 255) ?? true,
    { error: (iss) => `${k('vpcCidr')} (${show(iss.input)}) is not valid` },
  ),
  azCount: int('azCount', 2, 6),
  singleNatGateway: bool('singleNatGateway'),
  apiPublicAccess: bool('apiPublicAccess'),
  apiPublicAccessCidrs: list('apiPublicAccessCidrs', cidr('apiPublicAccessCidrs')),
  karpenterCpuLimit: int('karpenterCpuLimit', 4, 10000),
  karpenterMemoryGiLimit: int('karpenterMemoryGiLimit', 8, 100000),
  karpenterCapacityTypes: list(
    'karpenterCapacityTypes',
    oneOf('karpenterCapacityTypes item', CAPACITY_TYPES),
  ),
  karpenterInterruptionQueue: bool('karpenterInterruptionQueue'),
  acmeEmail: matching('acmeEmail', EMAIL, 'is not an e-mail address'),
  redis: bool('redis'),
  redisNodeType: matching('redisNodeType', /^cache\.[a-z0-9]+\.[a-z0-9]+$/, 'is not a cache node type'),
  postgres: bool('postgres'),
  postgresInstanceClass: matching(
    'postgresInstanceClass',
    /^db\.[a-z0-9]+\.[a-z0-9]+$/,
    'is not a DB instance class',
  ),
  postgresStorageGb: int('postgresStorageGb', 20, 65536),
  postgresVersion: matching(
    'postgresVersion',
    /^\d{2}(\.\d+)?$/,
    "must be a major (or major.minor) version such as '17'",
  ),
  backupRetentionDays: int('backupRetentionDays', 1, 35),
  deletionProtection: bool('deletionProtection'),
  apiClient: matching('apiClient', /^[a-zA-Z0-9_.-]{1,64}$/, 'must match [a-zA-Z0-9_.-]{1,64}'),
  chartVersions,
  ecrRepository: matching(
    'ecrRepository',
    /^[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/,
    'is not an ECR repository name',
  ),
} as const;

export type ConfigKey = keyof typeof FIELDS;
export const CONFIG_KEYS = Object.keys(FIELDS) as ConfigKey[];
export type RawStackConfig = Partial<Record<ConfigKey, string>>;
/** The typed value of each key the stack sets. */
export type ParsedFields = { -readonly [K in ConfigKey]?: z.output<(typeof FIELDS)[K]> };

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
  /** ACME account e-mail: when set, the `jobplane` ClusterIssuer is Let's Encrypt, else self-signed. */
  readonly acmeEmail?: string;
}

export interface KindStackConfig extends BaseStackConfig {
  readonly cluster: 'kind';
  readonly kind: {
    readonly nodeImage: string;
    readonly workers: number;
    /** Host ports mapped to the ingress controller's HTTP and HTTPS node ports. */
    readonly httpPort: number;
    readonly httpsPort: number;
  };
}

/** Karpenter's share of the cluster: what it may launch, and how much in total. */
export interface KarpenterSettings {
  readonly cpuLimit: number;
  readonly memoryGiLimit: number;
  readonly capacityTypes: readonly CapacityType[];
  readonly minInstanceCpu: number;
  /** SQS queue + EventBridge rules for spot interruptions and scheduled maintenance. */
  readonly interruptionQueue: boolean;
}

/** The EKS settings of a stack (`EksCluster` takes them as they are). */
export interface EksSettings {
  readonly region: string;
  readonly vpcCidr: string;
  readonly azCount: number;
  readonly singleNatGateway: boolean;
  /** Public API endpoint on (restricted to `apiPublicAccessCidrs`) or private endpoint only. */
  readonly apiPublicAccess: boolean;
  readonly apiPublicAccessCidrs: readonly string[];
  /** The managed node group for the add-ons; Karpenter adds workload nodes on demand. */
  readonly nodes: {
    readonly min: number;
    readonly max: number;
    readonly desired: number;
    readonly instanceTypes: readonly string[];
  };
  readonly karpenter: KarpenterSettings;
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

/** Parses each key with its schema; unknown keys and failed keys become problems. */
function parseFields(raw: Record<string, string | undefined>): { fields: ParsedFields; problems: string[] } {
  const problems: string[] = [];
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (!(key in FIELDS)) {
      problems.push(`${k(key)} is not a known key`);
      continue;
    }
    if (value === undefined || value === '') continue;
    const result = FIELDS[key as ConfigKey].safeParse(value);
    if (result.success) fields[key] = result.data;
    else problems.push(...result.error.issues.map((i) => i.message));
  }
  return { fields: fields as ParsedFields, problems };
}

/**
 * Rules across keys, on the values after defaults (zod `superRefine` over the merged EKS settings).
 * Each message names the keys and values involved.
 */
function crossFieldRules(environment: Environment) {
  const d = ENVIRONMENT_DEFAULTS[environment];
  return z
    .object({
      region: z.string().optional(),
      nodes: z.object({ min: z.number(), max: z.number(), desired: z.number() }),
      apiPublicAccess: z.boolean(),
      apiPublicAccessCidrs: z.array(z.string()).optional(),
      deletionProtection: z.boolean(),
    })
    .superRefine((s, ctx) => {
      const problem = (message: string) => ctx.addIssue({ code: 'custom', message });
      if (s.region === undefined) problem(`${k('region')} is required when ${k('cluster')} is 'eks'`);
      if (s.nodes.max < s.nodes.min) {
        problem(`${k('nodeMax')} (${s.nodes.max}) must be ≥ ${k('nodeMin')} (${s.nodes.min})`);
      } else if (s.nodes.desired < s.nodes.min || s.nodes.desired > s.nodes.max) {
        problem(
          `${k('nodeDesired')} (${s.nodes.desired}) must be between ${k('nodeMin')} (${s.nodes.min}) and ${k('nodeMax')} (${s.nodes.max})`,
        );
      }
      if (d.requireDeletionProtection && !s.deletionProtection) {
        problem(
          `${k('deletionProtection')} (false) must be true when ${k('environment')} is '${environment}'`,
        );
      }
      if (s.apiPublicAccess) {
        if (s.apiPublicAccessCidrs === undefined) {
          problem(
            `${k('apiPublicAccessCidrs')} is required when ${k('environment')} is '${environment}': ` +
              `list the CIDRs allowed to reach the public EKS API endpoint (office, VPN, CI egress), ` +
              `or set ${k('apiPublicAccess')} to false for a private endpoint only`,
          );
        } else if (!d.allowOpenApiEndpoint) {
          for (const c of s.apiPublicAccessCidrs.filter((c) => c.endsWith('/0'))) {
            problem(
              `${k('apiPublicAccessCidrs')} item (${show(c)}) opens the EKS API endpoint to the internet, ` +
                `which is refused when ${k('environment')} is '${environment}'`,
            );
          }
        }
      }
    });
}

function chartVersionsWith(overrides: Partial<Record<AddonId, string>> = {}): Record<AddonId, string> {
  return Object.fromEntries(ADDON_IDS.map((id) => [id, overrides[id] ?? ADDON_CHARTS[id].version])) as Record<
    AddonId,
    string
  >;
}

/**
 * Validates and types a stack's raw `jobplane:*` config.
 * @param raw values as strings, keyed without the `jobplane:` prefix (what `pulumi.Config#get` returns)
 * @param stackName the Pulumi stack name; the default for `environment`
 * @throws StackConfigError listing every problem, each naming the key and the value
 */
export function parseStackConfig(raw: RawStackConfig, stackName: string): StackConfig {
  const { fields: f, problems } = parseFields(raw);
  if (f.cluster === undefined && (raw.cluster ?? '') === '') {
    problems.push(`${k('cluster')} is required (one of ${CLUSTER_KINDS.join(', ')})`);
  }
  const stackEnv = (ENVIRONMENTS as readonly string[]).includes(stackName)
    ? (stackName as Environment)
    : undefined;
  if (f.environment === undefined && stackEnv === undefined && (raw.environment ?? '') === '') {
    problems.push(`${k('environment')} is required (one of ${ENVIRONMENTS.join(', ')})`);
  }
  const environment = f.environment ?? stackEnv ?? 'dev';
  const d = ENVIRONMENT_DEFAULTS[environment];
  const project = f.project ?? 'jobplane';
  const kubernetesVersion = f.kubernetesVersion ?? '1.34';
  const base: BaseStackConfig = {
    environment,
    project,
    clusterName: f.clusterName ?? `${project}-${environment}`,
    tags: { project, environment, 'managed-by': f.managedBy ?? 'pulumi' },
    chartVersions: chartVersionsWith(f.chartVersions),
    kubernetesVersion,
    apiClient: f.apiClient ?? 'default',
    ...(f.acmeEmail ? { acmeEmail: f.acmeEmail } : {}),
  };

  let config: StackConfig | undefined;
  if (f.cluster === 'kind') {
    config = {
      ...base,
      cluster: 'kind',
      kind: {
        nodeImage: f.kindNodeImage ?? `kindest/node:v${kubernetesVersion}.0`,
        workers: f.kindWorkers ?? 1,
        httpPort: f.kindHttpPort ?? 80,
        httpsPort: f.kindHttpsPort ?? 443,
      },
    };
  } else if (f.cluster === 'eks') {
    const min = f.nodeMin ?? d.nodeMin;
    const max = f.nodeMax ?? Math.max(min, d.nodeMax);
    const eks = {
      region: f.region,
      vpcCidr: f.vpcCidr ?? '10.0.0.0/16',
      azCount: f.azCount ?? d.azCount,
      singleNatGateway: f.singleNatGateway ?? d.singleNatGateway,
      apiPublicAccess: f.apiPublicAccess ?? true,
      apiPublicAccessCidrs: f.apiPublicAccessCidrs ?? d.apiPublicAccessCidrs,
      nodes: {
        min,
        max,
        desired: f.nodeDesired ?? min,
        instanceTypes: f.nodeInstanceTypes ?? d.nodeInstanceTypes,
      },
      karpenter: {
        cpuLimit: f.karpenterCpuLimit ?? d.karpenterCpuLimit,
        memoryGiLimit: f.karpenterMemoryGiLimit ?? d.karpenterMemoryGiLimit,
        capacityTypes: f.karpenterCapacityTypes ?? d.karpenterCapacityTypes,
        minInstanceCpu: KARPENTER_MIN_INSTANCE_CPU,
        interruptionQueue: f.karpenterInterruptionQueue ?? true,
      },
      redis: {
        enabled: f.redis ?? true,
        nodeType: f.redisNodeType ?? 'cache.t4g.small',
        replicas: d.redisReplicas,
      },
      postgres: {
        enabled: f.postgres ?? true,
        instanceClass: f.postgresInstanceClass ?? 'db.t4g.small',
        storageGb: f.postgresStorageGb ?? 20,
        version: f.postgresVersion ?? '17',
        backupRetentionDays: f.backupRetentionDays ?? d.backupRetentionDays,
        multiAz: d.postgresMultiAz,
      },
      deletionProtection: f.deletionProtection ?? d.deletionProtection,
      ecrRepository: f.ecrRepository ?? project,
    };
    const rules = crossFieldRules(environment).safeParse(eks);
    if (!rules.success) problems.push(...rules.error.issues.map((i) => i.message));
    config = {
      ...base,
      cluster: 'eks',
      eks: {
        ...eks,
        region: eks.region ?? '',
        // Private endpoint only: no public CIDRs at all.
        apiPublicAccessCidrs: eks.apiPublicAccess ? [...(eks.apiPublicAccessCidrs ?? [])] : [],
      },
    };
  }
  if (problems.length > 0 || config === undefined) throw new StackConfigError(problems);
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
