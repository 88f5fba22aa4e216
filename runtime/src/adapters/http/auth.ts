import { createHash } from 'node:crypto';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * Bearer-key authentication: keys are compared by SHA-256 digest so a lookup's timing says
 * nothing about how much of a key matched. Returns the client id, or null.
 */
export function createAuthenticator(
  keys: ReadonlyMap<string, string>,
): (authorization: string | undefined) => string | null {
  const byDigest = new Map<string, string>();
  for (const [key, client] of keys) byDigest.set(sha(key), client);
  return (authorization) => {
    if (!authorization) return null;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!m?.[1]) return null;
    return byDigest.get(sha(m[1])) ?? null;
  };
}
