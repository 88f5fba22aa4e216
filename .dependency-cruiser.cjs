/**
 * Layer rules for Jobplane (see docs/architecture.md).
 * Paths are relative to the folder depcruise runs in, so the same rules apply to the
 * planted-violation fixture under test/fixtures/layers.
 * @type {import('dependency-cruiser').IConfiguration}
 */
module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      comment: 'runtime domain/ imports nothing outside domain/ (node builtins only).',
      severity: 'error',
      from: { path: '^runtime/src/domain/' },
      to: { pathNot: ['^runtime/src/domain/'], dependencyTypesNot: ['core'] },
    },
    {
      name: 'application-uses-ports',
      comment: 'runtime application/ imports only domain/, ports/ and itself.',
      severity: 'error',
      from: { path: '^runtime/src/application/' },
      to: { pathNot: ['^runtime/src/(domain|ports|application)/'], dependencyTypesNot: ['core'] },
    },
    {
      name: 'ports-are-interfaces',
      comment: 'runtime ports/ imports only domain/ and ports/.',
      severity: 'error',
      from: { path: '^runtime/src/ports/' },
      to: { pathNot: ['^runtime/src/(domain|ports)/'], dependencyTypesNot: ['core'] },
    },
    {
      name: 'only-main-wires-adapters',
      comment: 'only runtime main/ (and adapters themselves) import adapters/.',
      severity: 'error',
      from: { path: '^runtime/src/', pathNot: ['^runtime/src/(main|adapters)/'] },
      to: { path: '^runtime/src/adapters/' },
    },
    {
      name: 'infra-never-imports-runtime',
      comment:
        'the construct library knows the runtime only through @jobplane/sdk/contract and a catalog passed in; the examples catalog is used by infra/deploy only.',
      severity: 'error',
      from: { path: '^infra/src/' },
      to: { path: '^(runtime|examples)/' },
    },
    {
      name: 'stacks-sees-only-constructs',
      comment: 'stacks/ may import @jobplane/constructs, never the runtime.',
      severity: 'error',
      from: { path: '^stacks/' },
      to: { path: '^runtime/' },
    },
    {
      name: 'sdk-stands-alone',
      comment: 'sdk/ (job SDK and the runtime contract) imports nothing of the other workspaces.',
      severity: 'error',
      from: { path: '^sdk/' },
      to: { path: '^(proto|runtime|infra|stacks|examples)/' },
    },
    {
      name: 'proto-stands-alone',
      severity: 'error',
      from: { path: '^proto/' },
      to: { path: '^(sdk|runtime|infra|stacks)/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(dist|coverage)/|\\.d\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.test.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
  },
};
