import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * SSRF rules of outgoing webhook URLs (docs/events.md): http(s) only, and every address the host
 * resolves to must be a public unicast address, unless it is inside an allow-listed CIDR
 * (WEBHOOK_DELIVERY_ALLOWED_CIDRS). Refused: loopback (127/8, ::1), link-local (169.254/16 with
 * the cloud metadata address, fe80::/10), private (10/8, 172.16/12, 192.168/16), CGNAT
 * (100.64/10), unique-local (fc00::/7), unspecified (0.0.0.0, ::), multicast, broadcast, reserved
 * and documentation ranges, and IPv6 forms that embed an IPv4 address (IPv4-mapped, NAT64,
 * 6to4, Teredo) unless the embedded IPv4 address passes on its own (IPv4-mapped only).
 */

export class UrlRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UrlRefused';
  }
}

export interface CheckedTarget {
  readonly url: URL;
  /** The address to connect to (checked); the Host header and TLS name stay the URL's. */
  readonly address: string;
  readonly family: 4 | 6;
}

/** Parses `a.b.c.d/n,…` into a BlockList of allowed ranges; throws naming the bad entry. */
export function parseAllowedCidrs(raw: string | undefined): BlockList {
  const list = new BlockList();
  for (const entry of (raw ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    try {
      const [addr, bits] = ipaddr.parseCIDR(entry);
      list.addSubnet(addr.toString(), bits, addr.kind() === 'ipv4' ? 'ipv4' : 'ipv6');
    } catch {
      throw new Error(`WEBHOOK_DELIVERY_ALLOWED_CIDRS: '${entry}' is not a CIDR (e.g. 10.1.0.0/16)`);
    }
  }
  return list;
}

/** Why `address` may not be connected to, or null when it may. */
export function refusedRange(address: string, allowed: BlockList): string | null {
  let addr: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    addr = ipaddr.parse(address);
  } catch {
    return 'not an IP address';
  }
  // ::ffff:a.b.c.d is the IPv4 address a.b.c.d to the kernel: judge it as that.
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) {
    addr = (addr as ipaddr.IPv6).toIPv4Address();
  }
  const family = addr.kind() === 'ipv4' ? 'ipv4' : 'ipv6';
  if (allowed.check(addr.toString(), family)) return null;
  const range = addr.range();
  return range === 'unicast' ? null : range;
}

/**
 * Resolves the URL's host once and checks every address; returns the first one to connect to.
 * Throws UrlRefused (a message fit for a 400 naming the field) for a bad scheme, a refused range or
 * a host that does not resolve.
 */
export async function checkTarget(
  raw: string,
  allowed: BlockList,
  field = 'url',
  resolve: (host: string) => Promise<{ address: string; family: number }[]> = (host) =>
    lookup(host, { all: true, verbatim: true }),
): Promise<CheckedTarget> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UrlRefused(`'${field}' is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UrlRefused(`'${field}' must be an http or https URL (got ${url.protocol.replace(/:$/, '')})`);
  }
  if (url.username || url.password) throw new UrlRefused(`'${field}' must not carry credentials`);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: { address: string; family: number }[];
  if (isIP(host)) {
    addresses = [{ address: host, family: isIP(host) }];
  } else {
    try {
      addresses = await resolve(host);
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'lookup failed';
      throw new UrlRefused(`'${field}': host '${host}' does not resolve (${code})`);
    }
    if (addresses.length === 0) throw new UrlRefused(`'${field}': host '${host}' does not resolve`);
  }
  for (const a of addresses) {
    const why = refusedRange(a.address, allowed);
    if (why) {
      throw new UrlRefused(
        isIP(host)
          ? `'${field}': address ${a.address} is in a refused range (${why})`
          : `'${field}': host '${host}' resolves to ${a.address}, in a refused range (${why})`,
      );
    }
  }
  const first = addresses[0]!;
  return { url, address: first.address, family: first.family === 6 ? 6 : 4 };
}
