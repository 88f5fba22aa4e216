/**
 * Pulumi mocks for the stacks tests: every resource the program registers is recorded with its
 * inputs, and the mocks answer with realistic ids, ARNs and endpoints so outputs that feed other
 * resources (subnet ids, security groups, OIDC issuer, endpoints) look like AWS's.
 *
 * Usage: `const run = await runProgram('prod', config)` — sets config and mocks, then
 * imports the program (`src/index.ts`) the way `pulumi up` would, and waits for every registration.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- resource inputs arrive from the engine as untyped JSON */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import * as pulumi from '@pulumi/pulumi';

export const ACCOUNT = '123456789012';
export const REGION = 'eu-west-1';

export interface RecordedResource {
  type: string;
  name: string;
  id: string;
  /** Inputs with secrets unwrapped (see `secretPaths`). */
  inputs: Record<string, any>;
  /** Dotted paths of inputs the program marked secret, e.g. `stringData`, `kubeconfig`. */
  secretPaths: string[];
  state: Record<string, any>;
  provider?: string;
}

/** Signature the Pulumi runtime puts on serialized secret values. */
const SECRET_SIG = '4dabf18193072939515e22adb298388d';
const SECRET_VALUE = '1b47061264138c4ac30d75fd1eb44270';

/** Unwraps serialized secrets, collecting their paths. */
function unwrapSecrets(value: any, path: string, secrets: string[]): any {
  if (Array.isArray(value)) return value.map((v, i) => unwrapSecrets(v, `${path}[${i}]`, secrets));
  if (value !== null && typeof value === 'object') {
    if (value[SECRET_SIG] === SECRET_VALUE) {
      secrets.push(path);
      return unwrapSecrets(value.value, path, secrets);
    }
    return Object.fromEntries(
      Object.entries(value).map(([key, v]) => [
        key,
        unwrapSecrets(v, path ? `${path}.${key}` : key, secrets),
      ]),
    );
  }
  return value;
}

const hex = (seed: string, n: number) => createHash('sha256').update(seed).digest('hex').slice(0, n);
const arn = (service: string, resource: string, region = REGION) =>
  `arn:aws:${service}:${region}:${ACCOUNT}:${resource}`;

/** Reads a stack file's `jobplane:*` config as Pulumi hands it to the program (lists/maps as JSON). */
export function stackFileConfig(stack: string): Record<string, string> {
  const file = fileURLToPath(new URL(`../../Pulumi.${stack}.yaml`, import.meta.url));
  const doc = parse(readFileSync(file, 'utf8')) as { config?: Record<string, unknown> };
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(doc.config ?? {})) {
    if (!key.startsWith('jobplane:')) continue;
    out[key.slice('jobplane:'.length)] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  return out;
}

/** Physical id and extra output properties per resource type, as the providers would report. */
function respond(
  type: string,
  name: string,
  inputs: Record<string, any>,
): { id: string; extra: Record<string, any> } {
  const h = hex(`${type}/${name}`, 17);
  switch (type) {
    case 'aws:ec2/vpc:Vpc':
      return { id: `vpc-${h}`, extra: { arn: arn('ec2', `vpc/vpc-${h}`) } };
    case 'aws:ec2/subnet:Subnet':
      return { id: `subnet-${h}`, extra: { arn: arn('ec2', `subnet/subnet-${h}`) } };
    case 'aws:ec2/internetGateway:InternetGateway':
      return { id: `igw-${h}`, extra: {} };
    case 'aws:ec2/eip:Eip':
      return { id: `eipalloc-${h}`, extra: { publicIp: `52.${parseInt(h.slice(0, 2), 16)}.10.1` } };
    case 'aws:ec2/natGateway:NatGateway':
      return { id: `nat-${h}`, extra: {} };
    case 'aws:ec2/routeTable:RouteTable':
      return { id: `rtb-${h}`, extra: {} };
    case 'aws:ec2/routeTableAssociation:RouteTableAssociation':
      return { id: `rtbassoc-${h}`, extra: {} };
    case 'aws:ec2/securityGroup:SecurityGroup':
      return { id: `sg-${h}`, extra: { arn: arn('ec2', `security-group/sg-${h}`) } };
    case 'aws:kms/key:Key': {
      const keyId = `${hex(name, 8)}-${hex(name + 1, 4)}-${hex(name + 2, 4)}-${hex(name + 3, 4)}-${hex(name + 4, 12)}`;
      return { id: keyId, extra: { keyId, arn: arn('kms', `key/${keyId}`) } };
    }
    case 'aws:kms/alias:Alias':
      return { id: inputs.name, extra: { arn: arn('kms', inputs.name) } };
    case 'aws:iam/role:Role': {
      const roleName = `${name}-${hex(name, 7)}`;
      return { id: roleName, extra: { name: roleName, arn: `arn:aws:iam::${ACCOUNT}:role/${roleName}` } };
    }
    case 'aws:iam/rolePolicyAttachment:RolePolicyAttachment':
      return { id: `${inputs.role}-${hex(name, 8)}`, extra: {} };
    case 'aws:cloudwatch/logGroup:LogGroup':
      return { id: inputs.name, extra: { arn: arn('logs', `log-group:${inputs.name}`) } };
    case 'aws:eks/cluster:Cluster': {
      const oidcId = hex(name, 32).toUpperCase();
      return {
        id: inputs.name,
        extra: {
          arn: arn('eks', `cluster/${inputs.name}`),
          endpoint: `https://${oidcId}.gr7.${REGION}.eks.amazonaws.com`,
          certificateAuthority: {
            data: Buffer.from(`-----BEGIN CERTIFICATE-----${name}`).toString('base64'),
          },
          identities: [{ oidcs: [{ issuer: `https://oidc.eks.${REGION}.amazonaws.com/id/${oidcId}` }] }],
          vpcConfig: { ...inputs.vpcConfig, clusterSecurityGroupId: `sg-${hex(name + 'cluster', 17)}` },
          status: 'ACTIVE',
        },
      };
    }
    case 'aws:eks/nodeGroup:NodeGroup':
      return {
        id: `${inputs.clusterName}:${name}`,
        extra: { arn: arn('eks', `nodegroup/${inputs.clusterName}/${name}`) },
      };
    case 'aws:iam/openIdConnectProvider:OpenIdConnectProvider': {
      const host = String(inputs.url).replace(/^https:\/\//, '');
      const a = `arn:aws:iam::${ACCOUNT}:oidc-provider/${host}`;
      return { id: a, extra: { arn: a } };
    }
    case 'aws:ecr/repository:Repository':
      return {
        id: inputs.name,
        extra: {
          arn: arn('ecr', `repository/${inputs.name}`),
          repositoryUrl: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/${inputs.name}`,
        },
      };
    case 'aws:elasticache/replicationGroup:ReplicationGroup':
      return {
        id: inputs.replicationGroupId,
        extra: {
          arn: arn('elasticache', `replicationgroup:${inputs.replicationGroupId}`),
          primaryEndpointAddress: `master.${inputs.replicationGroupId}.${hex(name, 6)}.euw1.cache.amazonaws.com`,
        },
      };
    case 'aws:elasticache/parameterGroup:ParameterGroup':
    case 'aws:elasticache/subnetGroup:SubnetGroup':
    case 'aws:rds/subnetGroup:SubnetGroup': {
      const n = `${name}-${hex(name, 7)}`;
      return { id: n, extra: { name: n } };
    }
    case 'aws:rds/instance:Instance': {
      const address = `${inputs.identifier}.c${hex(name, 11)}.${REGION}.rds.amazonaws.com`;
      return {
        id: `db-${hex(name, 26).toUpperCase()}`,
        extra: {
          address,
          port: 5432,
          endpoint: `${address}:5432`,
          arn: arn('rds', `db:${inputs.identifier}`),
        },
      };
    }
    case 'aws:iam/rolePolicy:RolePolicy':
      return { id: `${inputs.role}:${name}`, extra: {} };
    case 'aws:eks/accessEntry:AccessEntry':
      return {
        id: `${inputs.clusterName}:${inputs.principalArn}`,
        extra: { accessEntryArn: arn('eks', `access-entry/${inputs.clusterName}/${hex(name, 12)}`) },
      };
    case 'aws:sqs/queue:Queue':
      return {
        id: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${inputs.name}`,
        extra: {
          arn: arn('sqs', inputs.name),
          url: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${inputs.name}`,
        },
      };
    case 'aws:cloudwatch/eventRule:EventRule': {
      const ruleName = `${name}-${hex(name, 7)}`;
      return { id: ruleName, extra: { name: ruleName, arn: arn('events', `rule/${ruleName}`) } };
    }
    case 'random:index/randomPassword:RandomPassword': {
      let result = '';
      while (result.length < inputs.length) result += hex(`${name}${result.length}`, 64);
      return { id: 'none', extra: { result: result.slice(0, inputs.length) } };
    }
    case 'command:local:Command':
      return {
        id: `${name}-${hex(name, 8)}`,
        extra: {
          stdout: `apiVersion: v1\nkind: Config\nclusters:\n- name: kind-${inputs.environment?.KIND_CLUSTER_NAME}\n  cluster:\n    server: https://127.0.0.1:41234\n`,
          stderr: '',
        },
      };
    case 'kubernetes:helm.sh/v3:Release':
      return {
        id: `${inputs.namespace}/${inputs.name}`,
        extra: { status: { status: 'deployed', version: inputs.version } },
      };
    default:
      return { id: `${name}-${hex(name, 8)}`, extra: {} };
  }
}

export interface ProgramRun {
  resources: RecordedResource[];
  outputs: Record<string, unknown>;
  /** Whether each stack output is a secret. */
  secret?: Record<string, boolean>;
  /** Resources of one type token. */
  ofType(type: string): RecordedResource[];
  /** The one resource with this logical name. */
  named(name: string): RecordedResource;
  byId(id: string): RecordedResource | undefined;
}

/** Resolves an Output (or plain value) to its value, as seen by the engine after an update. */
export function valueOf<T>(o: pulumi.Input<T> | undefined): Promise<T | undefined> {
  return new Promise((resolve) => pulumi.output(o).apply((v) => resolve(v as T)));
}

/** Installs mocks for `stack`, recording every resource; returns the record. */
export async function installMocks(
  stack: string,
  config: Record<string, string>,
): Promise<RecordedResource[]> {
  const resources: RecordedResource[] = [];
  pulumi.runtime.setAllConfig(
    Object.fromEntries(Object.entries(config).map(([key, v]) => [`jobplane:${key}`, v])),
  );
  await pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs): pulumi.runtime.MockResourceResult {
        const secretPaths: string[] = [];
        const inputs = unwrapSecrets(args.inputs, '', secretPaths) as Record<string, any>;
        const { id, extra } = respond(args.type, args.name, inputs);
        const state = { ...args.inputs, ...extra };
        resources.push({
          type: args.type,
          name: args.name,
          id,
          inputs,
          secretPaths,
          state,
          ...(args.provider ? { provider: args.provider } : {}),
        });
        return { id, state };
      },
      call(args: pulumi.runtime.MockCallArgs): pulumi.runtime.MockCallResult {
        if (args.token === 'aws:index/getAvailabilityZones:getAvailabilityZones') {
          return {
            names: [`${REGION}a`, `${REGION}b`, `${REGION}c`],
            zoneIds: ['euw1-az1', 'euw1-az2', 'euw1-az3'],
            id: REGION,
          };
        }
        throw new Error(`unexpected call ${args.token}`);
      },
    },
    'jobplane',
    stack,
    false,
  );
  return resources;
}

/** Runs the program entry point for a stack under mocks and waits for every registration. */
export async function runProgram(stack: string, config: Record<string, string>): Promise<ProgramRun> {
  const resources = await installMocks(stack, config);
  // The entry point `pulumi up` runs: reads the stack config and the repository's argocd/.
  const mod = (await import('../src/index.js')) as Record<string, unknown>;
  const outputs: Record<string, unknown> = {};
  const secret: Record<string, boolean> = {};
  for (const [key, v] of Object.entries(mod)) {
    outputs[key] = await valueOf(v as pulumi.Input<unknown>);
    secret[key] = pulumi.Output.isInstance(v) ? await pulumi.isSecret(v) : false;
  }
  await pulumi.runtime.disconnect();
  return { ...wrap(resources, outputs), secret };
}

export function wrap(resources: RecordedResource[], outputs: Record<string, unknown> = {}): ProgramRun {
  return {
    resources,
    outputs,
    ofType: (type) => resources.filter((r) => r.type === type),
    named: (name) => {
      const found = resources.filter((r) => r.name === name);
      if (found.length !== 1) throw new Error(`expected one resource named ${name}, found ${found.length}`);
      return found[0]!;
    },
    byId: (id) => resources.find((r) => r.id === id),
  };
}
