/**
 * Generates infra/src/verify/schema-fields.json: for every kind of schema-kinds.ts, the tree of
 * field names its upstream type declares. Run with `npx tsx infra/scripts/gen-schema-fields.ts`
 * after upgrading kubernetes-models; the infra tests fail if the committed file is stale.
 *
 * Node encoding: `"*"` any value; `{ "f": {field: node} }` an object with known fields,
 * optionally `"m": node` for a string-keyed map; `{ "a": node }` an array. Named nodes are shared
 * through `"#<id>"` references into `types`.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

type Node = '*' | string | { f?: Record<string, Node>; m?: Node; a?: Node };

export function generate(): { kinds: Record<string, Node>; types: Record<string, Node> } {
  const entry = fileURLToPath(new URL('./schema-kinds.ts', import.meta.url));
  const program = ts.createProgram([entry], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    skipLibCheck: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(entry)!;
  const moduleSymbol = checker.getSymbolAtLocation(source)!;
  const types: Record<string, Node> = {};
  const ids = new Map<ts.Type, string>();
  let counter = 0;

  const isPrimitive = (t: ts.Type) =>
    (t.flags &
      (ts.TypeFlags.StringLike |
        ts.TypeFlags.NumberLike |
        ts.TypeFlags.BooleanLike |
        ts.TypeFlags.BigIntLike |
        ts.TypeFlags.Null |
        ts.TypeFlags.Undefined |
        ts.TypeFlags.Void)) !==
    0;

  function walk(t: ts.Type): Node {
    if (t.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return '*';
    if (t.isUnion()) {
      const parts = t.types.filter((p) => !(p.flags & (ts.TypeFlags.Undefined | ts.TypeFlags.Null)));
      const objects = parts.filter((p) => !isPrimitive(p));
      if (objects.length === 0) return '*';
      if (objects.length === 1) return walk(objects[0]!);
      // Several object shapes: accept the union of their fields.
      const merged: Record<string, Node> = {};
      for (const o of objects) {
        const n = resolve(walk(o));
        if (typeof n === 'object' && n.f) Object.assign(merged, n.f);
        else return '*';
      }
      return { f: merged };
    }
    if (isPrimitive(t)) return '*';
    if (checker.isArrayType(t)) {
      const [elem] = checker.getTypeArguments(t as ts.TypeReference);
      return { a: elem ? walk(elem) : '*' };
    }
    if (!(t.flags & ts.TypeFlags.Object)) return '*';
    const existing = ids.get(t);
    if (existing) return `#${existing}`;
    const id = String(counter++);
    ids.set(t, id);
    const node: { f?: Record<string, Node>; m?: Node } = {};
    const props = checker.getPropertiesOfType(t);
    if (props.length > 0) {
      node.f = {};
      for (const p of props.sort((a, b) => (a.name < b.name ? -1 : 1))) {
        node.f[p.name] = walk(checker.getTypeOfSymbol(p));
      }
    }
    const index = checker.getIndexTypeOfType(t, ts.IndexKind.String);
    if (index) node.m = walk(index);
    if (!node.f && !node.m) {
      types[id] = '*';
      return `#${id}`;
    }
    types[id] = node;
    return `#${id}`;
  }
  function resolve(n: Node): Node {
    return typeof n === 'string' && n.startsWith('#') ? resolve(types[n.slice(1)]!) : n;
  }

  const kinds: Record<string, Node> = {};
  for (const sym of checker.getExportsOfModule(moduleSymbol).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const [group, kind] = sym.name.split('__') as [string, string];
    const apiVersion = group === 'v1' ? 'v1' : group.replace(/_v(\d+\w*)$/, '/v$1').replace(/_/g, '.');
    kinds[`${apiVersion}/${kind}`] = walk(checker.getDeclaredTypeOfSymbol(sym));
  }
  return { kinds, types };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = fileURLToPath(new URL('../src/verify/schema-fields.json', import.meta.url));
  writeFileSync(out, JSON.stringify(generate()) + '\n');
  console.log(`wrote ${out}`);
}
