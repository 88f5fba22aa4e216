/**
 * V1: every object validates against the upstream schema of its kind (kubernetes-models and
 * @kubernetes-models/{keda,argo-cd,prometheus-operator}), plus a strict check that rejects fields
 * the kind's type does not declare (the upstream validators let unknown fields through).
 * The model packages are dependencies of `@jobplane/constructs`, loaded lazily on the first check;
 * when one cannot be loaded (pruned or not installed) the verifier reports that package by name,
 * once, instead of a "no schema" finding per object.
 */
import type { Finding, Manifest } from './types.js';
import { ref } from './types.js';
import fieldsJson from './schema-fields.json' with { type: 'json' };

type Node = string | { f?: Record<string, Node>; m?: Node; a?: Node };
interface FieldTree {
  kinds: Record<string, Node>;
  types: Record<string, Node>;
}

const FIELDS = fieldsJson as unknown as FieldTree;

/** Module holding the model class of an apiVersion. */
function modelModule(apiVersion: string): string | undefined {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  if (group === 'keda.sh') return `@kubernetes-models/keda/keda.sh/${version}`;
  if (group === 'argoproj.io') return `@kubernetes-models/argo-cd/argoproj.io/${version}`;
  if (group === 'monitoring.coreos.com')
    return `@kubernetes-models/prometheus-operator/monitoring.coreos.com/${version}`;
  if (group === '') return `kubernetes-models/${version}`;
  if (/^[a-z0-9.]+$/.test(group!) && /^v\d+\w*$/.test(version!))
    return `kubernetes-models/${group}/${version}`;
  return undefined;
}

interface ModelClass {
  new (data: unknown): { validate(): void };
}

/** The npm package a model module belongs to (`@scope/name` or `name`). */
export function packageOf(module: string): string {
  const parts = module.split('/');
  return module.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

/** Importer of model modules; a test can replace it to simulate a missing package. */
export type ModuleImporter = (specifier: string) => Promise<unknown>;
const importModule: ModuleImporter = (specifier) => import(specifier);

type Loaded = { readonly model?: ModelClass; readonly missingPackage?: string };

async function loadModel(apiVersion: string, kind: string, load: ModuleImporter): Promise<Loaded> {
  const mod = modelModule(apiVersion);
  if (!mod) return {};
  let m: Record<string, unknown>;
  try {
    m = (await load(mod)) as Record<string, unknown>;
  } catch (err) {
    const code = (err as { code?: string }).code;
    const pkg = packageOf(mod);
    // The package itself is absent (not a module of an installed package that does not exist).
    if (
      (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
      String((err as Error).message).includes(`'${pkg}`)
    ) {
      return { missingPackage: pkg };
    }
    return {};
  }
  return typeof m[kind] === 'function' ? { model: m[kind] as ModelClass } : {};
}

function strict(node: Node, value: unknown, path: string, out: string[]): void {
  if (typeof node === 'string') {
    if (node === '*') return;
    const target = FIELDS.types[node.slice(1)];
    if (target !== undefined) strict(target, value, path, out);
    return;
  }
  if (value === null || value === undefined) return;
  if (node.a !== undefined) {
    if (Array.isArray(value)) value.forEach((v, i) => strict(node.a!, v, `${path}[${i}]`, out));
    return;
  }
  if (typeof value !== 'object' || Array.isArray(value)) return;
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const child = node.f?.[key];
    if (child !== undefined) strict(child, v, path ? `${path}.${key}` : key, out);
    else if (node.m !== undefined) strict(node.m, v, `${path}[${key}]`, out);
    else out.push(path ? `${path}.${key}` : key);
  }
}

/** Unknown-field paths of `o` (empty when the kind is unknown: `checkSchemas` reports that). */
export function unknownFields(o: Manifest): string[] {
  const node = FIELDS.kinds[`${o.apiVersion}/${o.kind}`];
  if (node === undefined) return [];
  const out: string[] = [];
  strict(node, o, '', out);
  return out;
}

export async function checkSchemas(
  objects: readonly Manifest[],
  load: ModuleImporter = importModule,
): Promise<Finding[]> {
  const findings: Finding[] = [];
  const missing = new Map<string, Set<string>>();
  for (const o of objects) {
    const key = `${o.apiVersion}/${o.kind}`;
    const { model: Model, missingPackage } = await loadModel(o.apiVersion, o.kind, load);
    if (missingPackage !== undefined) {
      const kinds = missing.get(missingPackage) ?? new Set<string>();
      missing.set(missingPackage, kinds.add(key));
      continue;
    }
    if (!Model || FIELDS.kinds[key] === undefined) {
      findings.push({
        rule: 'V1',
        object: ref(o),
        message: `no schema for ${key}: the verifier only accepts kinds it can validate`,
      });
      continue;
    }
    try {
      new Model(o).validate();
    } catch (err) {
      findings.push({
        rule: 'V1',
        object: ref(o),
        message: `schema: ${(err as Error).message.replace(/\s+/g, ' ').slice(0, 400)}`,
      });
    }
    for (const path of unknownFields(o)) {
      findings.push({
        rule: 'V1-strict',
        object: ref(o),
        message: `unknown field '${path}' (not in the ${o.kind} schema)`,
      });
    }
  }
  for (const [pkg, kinds] of missing) {
    findings.push({
      rule: 'V1',
      object: pkg,
      message: `schema package '${pkg}' cannot be loaded, so ${[...kinds].sort().join(', ')} cannot be validated: install it (it is a dependency of @jobplane/constructs)`,
    });
  }
  return findings;
}
