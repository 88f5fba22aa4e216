/**
 * Dockerfile lint: dockerfile-utils' validator (the checks the Docker builder itself would fail on,
 * as used by the VS Code Docker tooling) plus hadolint-style policy rules written against
 * dockerfile-ast's parse tree. hadolint itself is a Haskell binary that npm can only download at
 * install time, which is not possible here; the rules below carry hadolint's codes where they
 * correspond, `JP…` where they are Jobplane's own.
 *
 * Usage: npx tsx scripts/lint-dockerfile.ts [Dockerfile…]   (default runtime/Dockerfile)
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  DockerfileParser,
  type Copy,
  type From,
  type Instruction,
  type JSONInstruction,
  type PropertyInstruction,
} from 'dockerfile-ast';
import { validate, ValidationSeverity, type ValidatorSettings } from 'dockerfile-utils';

export interface Finding {
  rule: string;
  line: number;
  message: string;
}

/** Every optional dockerfile-utils check raised to an error. */
const STRICT: ValidatorSettings = {
  deprecatedMaintainer: ValidationSeverity.ERROR,
  directiveCasing: ValidationSeverity.ERROR,
  emptyContinuationLine: ValidationSeverity.ERROR,
  instructionCasing: ValidationSeverity.ERROR,
  instructionCmdMultiple: ValidationSeverity.ERROR,
  instructionEntrypointMultiple: ValidationSeverity.ERROR,
  instructionHealthcheckMultiple: ValidationSeverity.ERROR,
  instructionJSONInSingleQuotes: ValidationSeverity.ERROR,
  instructionWorkdirRelative: ValidationSeverity.ERROR,
};

function lineOf(instr: Instruction): number {
  return instr.getRange().start.line + 1;
}

export function lintDockerfile(text: string): Finding[] {
  const findings: Finding[] = validate(text, STRICT).map((d) => ({
    rule: `dockerfile-utils:${String(d.code)}`,
    line: d.range.start.line + 1,
    message: typeof d.message === 'string' ? d.message : d.message.value,
  }));
  const df = DockerfileParser.parse(text);
  const add = (rule: string, instr: Instruction, message: string) =>
    findings.push({ rule, line: lineOf(instr), message });

  const froms = df.getFROMs();
  const stageNames = new Set<string>();
  // Instructions grouped by stage.
  const stages: { from: From; instructions: Instruction[] }[] = [];
  for (const instr of df.getInstructions()) {
    if (instr.getKeyword() === 'FROM') stages.push({ from: instr as From, instructions: [] });
    else stages.at(-1)?.instructions.push(instr);
  }

  if (froms.length < 2)
    findings.push({
      rule: 'JP001',
      line: 1,
      message: 'use a multi-stage build: build tools must not reach the final image',
    });

  for (const from of froms) {
    const image = from.getImageName() ?? '';
    const isStage = stageNames.has(image);
    if (!isStage && image !== 'scratch') {
      const tag = from.getImageTag();
      const digest = from.getImageDigest();
      if (!tag && !digest) add('DL3006', from, `always tag the image explicitly (${image})`);
      if (tag === 'latest') add('DL3007', from, `'${image}:latest' is not reproducible; pin a version`);
    }
    const stage = from.getBuildStage();
    if (stage) stageNames.add(stage);
  }

  const final = stages.at(-1);
  if (final) {
    if (!final.from.getImageDigest())
      add('JP002', final.from, 'pin the final base image by digest (@sha256:…)');
    const users = final.instructions.filter((i) => i.getKeyword() === 'USER');
    const user = users.at(-1)?.getArgumentsContent()?.split(':')[0];
    if (!user) add('DL3002', final.from, 'the final stage must set USER to a non-root user');
    else if (!/^\d+$/.test(user))
      add(
        'JP003',
        users.at(-1) as Instruction,
        `USER '${user}' must be numeric so runAsNonRoot can verify it`,
      );
    else if (Number(user) === 0) add('DL3002', users.at(-1) as Instruction, 'last USER must not be root');
    for (const run of final.instructions.filter((i) => i.getKeyword() === 'RUN')) {
      add('JP004', run, 'the final stage must not RUN anything: the runtime image has no shell');
    }
    const labels = final.instructions
      .filter((i) => i.getKeyword() === 'LABEL')
      .flatMap((i) =>
        (i as PropertyInstruction).getProperties().map((p) => [p.getName(), p.getValue() ?? ''] as const),
      );
    const revision = labels.find(([k]) => k === 'org.opencontainers.image.revision');
    const args = new Set(
      final.instructions
        .filter((i) => i.getKeyword() === 'ARG')
        .map((i) => i.getArgumentsContent()?.split('=')[0]),
    );
    const ref = revision && /\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/.exec(revision[1])?.[1];
    if (!ref || !args.has(ref)) {
      add(
        'JP005',
        final.from,
        'label org.opencontainers.image.revision with the git SHA from a build ARG of the final stage',
      );
    }
    if (!final.instructions.some((i) => i.getKeyword() === 'ENTRYPOINT'))
      add('JP006', final.from, 'the final stage needs an ENTRYPOINT');
  }

  for (const instr of df.getInstructions()) {
    const kw = instr.getKeyword();
    if (kw === 'ADD') add('DL3020', instr, 'use COPY instead of ADD for files and folders');
    if (kw === 'ENTRYPOINT' || kw === 'CMD') {
      if ((instr as JSONInstruction).getJSONStrings().length === 0)
        add('DL3025', instr, `use the JSON (exec) form for ${kw} so signals reach the process`);
    }
    if (kw === 'COPY') {
      const from = (instr as Copy).getFromFlag()?.getValue();
      if (from && !stageNames.has(from))
        add('DL3022', instr, `COPY --from=${from} does not name a build stage`);
    }
    if (kw === 'RUN') {
      const cmd = instr.getArgumentsContent() ?? '';
      if (/(^|[;&|]\s*)cd\s/.test(cmd)) add('DL3003', instr, 'use WORKDIR to switch directories');
      if (/(^|[;&|]\s*)sudo\s/.test(cmd)) add('DL3004', instr, 'do not use sudo');
      if (/\bnpm\s+(install|i)\b/.test(cmd))
        add('JP007', instr, 'install from the lockfile with `npm ci`, not `npm install`');
      if (/\bcurl\b|\bwget\b/.test(cmd))
        add('JP008', instr, 'no downloads in RUN: everything comes from the lockfile or the build context');
    }
  }
  return findings.sort((a, b) => a.line - b.line);
}

function main() {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const files = process.argv.slice(2);
  let failed = 0;
  for (const file of files.length > 0 ? files : [join(root, 'runtime', 'Dockerfile')]) {
    for (const f of lintDockerfile(readFileSync(file, 'utf8'))) {
      failed++;
      console.error(`${file}:${f.line} ${f.rule} ${f.message}`);
    }
  }
  if (failed > 0) process.exit(1);
  console.log('dockerfile lint: no findings');
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main();
