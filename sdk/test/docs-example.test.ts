/**
 * docs/jobs-sdk.md: every TypeScript block of "A complete example" (each starts with
 * `// file: <path>`) is type-checked together, as a team's package would compile it, against the
 * built SDK (`npx tsc -b` first). The files exist in memory only.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const doc = readFileSync(join(repo, 'docs/jobs-sdk.md'), 'utf8');
/** A folder inside the repository, so `@jobplane/sdk` and `zod` resolve from its node_modules. */
const root = join(repo, 'sdk/test/__docs-example__');

function exampleFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const m of doc.matchAll(/```ts\n(\/\/ file: (\S+)[^\n]*\n[\s\S]*?)```/g)) {
    files.set(join(root, m[2] as string), m[1] as string);
  }
  return files;
}

describe('docs/jobs-sdk.md', () => {
  it('has a complete example: a catalog module and its handlers', () => {
    expect([...exampleFiles().keys()].map((f) => f.slice(root.length + 1))).toEqual([
      'src/catalog.ts',
      'src/thumbnail.handler.ts',
      'src/album.handler.ts',
      'src/report.handler.ts',
    ]);
  });

  it('type-checks (strict, NodeNext) against the SDK', () => {
    const files = exampleFiles();
    const options: ts.CompilerOptions = {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      lib: ['lib.es2023.d.ts'],
      types: ['node'],
      typeRoots: [join(repo, 'node_modules/@types')],
    };
    const host = ts.createCompilerHost(options);
    const base = { fileExists: host.fileExists, readFile: host.readFile, getSourceFile: host.getSourceFile };
    // The example's own package.json makes its .ts files ES modules.
    const pkg = join(root, 'package.json');
    const virtual = (f: string) => files.get(f) ?? (f === pkg ? '{"type":"module"}' : undefined);
    host.fileExists = (f) => virtual(f) !== undefined || base.fileExists(f);
    host.readFile = (f) => virtual(f) ?? base.readFile(f);
    const baseDirExists = host.directoryExists?.bind(host);
    host.directoryExists = (d) => d === root || d.startsWith(`${root}/`) || (baseDirExists?.(d) ?? true);
    host.getSourceFile = (f, lang, ...rest) => {
      const text = files.get(f);
      return text !== undefined ? ts.createSourceFile(f, text, lang) : base.getSourceFile(f, lang, ...rest);
    };
    const program = ts.createProgram([...files.keys()], options, host);
    const problems = ts
      .getPreEmitDiagnostics(program)
      .map(
        (d) =>
          `${d.file?.fileName.slice(root.length + 1) ?? ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`,
      );
    expect(problems).toEqual([]);
  }, 120_000); // a full type-check of zod and @types/node: seconds on a busy machine
});
