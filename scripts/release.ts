/**
 * Release helpers for .github/workflows/release.yml and promote.yml (GitOps: CI changes Git, Argo CD
 * applies Git). Image tags are git SHAs, kept per environment in infra/image-tags.json; the image
 * repository of each environment is configuration in infra/src/environments (one source for the
 * push and for the synthesized manifests).
 *
 *   tsx scripts/release.ts image-repository <env>     print the environment's image repository
 *   tsx scripts/release.ts set-tag <env> <sha>        point <env> at the image built from <sha>
 *   tsx scripts/release.ts promote <from> <to>        copy <from>'s tag to <to>; prints the tag
 *
 * Needs `npx tsc -b` first (reads @jobplane/constructs through infra/dist).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ENVIRONMENTS } from '@jobplane/constructs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const IMAGE_TAGS_FILE = join(ROOT, 'infra', 'image-tags.json');

export class ReleaseError extends Error {
  override readonly name = 'ReleaseError';
}

function readTags(file: string): Record<string, string> {
  return JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
}

function writeTags(file: string, tags: Record<string, string>): void {
  writeFileSync(file, `${JSON.stringify(tags, null, 2)}\n`);
}

function checkEnv(tags: Record<string, string>, env: string): void {
  if (!(env in tags))
    throw new ReleaseError(
      `environment '${env}' is not in image-tags.json (has ${Object.keys(tags).join(', ')})`,
    );
}

function checkSha(sha: string): void {
  if (!/^[0-9a-f]{40}$/.test(sha)) throw new ReleaseError(`tag '${sha}' must be a full 40-character git SHA`);
}

export function imageRepository(env: string): string {
  const found = ENVIRONMENTS.find((e) => e.name === env);
  if (!found)
    throw new ReleaseError(
      `unknown environment '${env}' (known: ${ENVIRONMENTS.map((e) => e.name).join(', ')})`,
    );
  return found.imageRepository;
}

/** Points `env` at `sha`; returns the previous tag. Other environments are left untouched. */
export function setTag(env: string, sha: string, file = IMAGE_TAGS_FILE): string {
  const tags = readTags(file);
  checkEnv(tags, env);
  checkSha(sha);
  const previous = tags[env] as string;
  writeTags(file, { ...tags, [env]: sha });
  return previous;
}

/** Copies `from`'s tag to `to` (staging → prod); returns the promoted tag. */
export function promote(from: string, to: string, file = IMAGE_TAGS_FILE): string {
  const tags = readTags(file);
  checkEnv(tags, from);
  checkEnv(tags, to);
  const sha = tags[from] as string;
  checkSha(sha);
  if (imageRepository(from) !== imageRepository(to)) {
    throw new ReleaseError(
      `'${from}' and '${to}' use different image repositories (${imageRepository(from)} vs ${imageRepository(to)}); promotion copies a tag, not an image`,
    );
  }
  writeTags(file, { ...tags, [to]: sha });
  return sha;
}

function main(argv: string[]): void {
  const [cmd, a, b] = argv;
  if (cmd === 'image-repository' && a) console.log(imageRepository(a));
  else if (cmd === 'set-tag' && a && b) console.log(`${a}: ${setTag(a, b)} -> ${b}`);
  else if (cmd === 'promote' && a && b) console.log(promote(a, b));
  else
    throw new ReleaseError(
      'usage: release.ts image-repository <env> | set-tag <env> <sha> | promote <from> <to>',
    );
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    main(process.argv.slice(2));
  } catch (err) {
    console.error(`release: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
