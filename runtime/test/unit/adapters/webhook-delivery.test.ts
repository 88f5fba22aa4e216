import { describe, expect, it } from 'vitest';
import { signedHeaders } from '../../../src/adapters/webhooks/delivery-client.js';
import {
  checkTarget,
  parseAllowedCidrs,
  refusedRange,
  UrlRefused,
} from '../../../src/adapters/webhooks/ssrf.js';
import { verifyStandardWebhook } from '../../../src/domain/webhook-signature.js';

const none = parseAllowedCidrs(undefined);

describe('Standard Webhooks signing', () => {
  it('matches the test vector of the specification', () => {
    // standard-webhooks spec / reference libraries' vector.
    const h = signedHeaders({
      secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
      now: new Date(1614265330 * 1000),
      body: '{"test": 2432232314}',
    });
    expect(h['webhook-signature']).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
    expect(h['webhook-timestamp']).toBe('1614265330');
    expect(h['webhook-id']).toBe('msg_p5jXN8AQM9LWM0D4loKWxJek');
  });

  it('is accepted by the platform’s own verifier and refused with another secret', () => {
    const secret = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;
    const now = new Date();
    const body = '{"a":1}';
    const headers = signedHeaders({ secret, id: 'evt-1', now, body });
    expect(verifyStandardWebhook({ secret, headers, rawBody: Buffer.from(body), now }).ok).toBe(true);
    const other = `whsec_${Buffer.alloc(32, 8).toString('base64')}`;
    expect(verifyStandardWebhook({ secret: other, headers, rawBody: Buffer.from(body), now }).ok).toBe(false);
  });
});

describe('SSRF address ranges', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['::1', 'loopback'],
    ['169.254.169.254', 'linkLocal'],
    ['fe80::1', 'linkLocal'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.254', 'private'],
    ['192.168.0.1', 'private'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['100.127.255.254', 'carrierGradeNat'],
    ['fc00::1', 'uniqueLocal'],
    ['fdff::1', 'uniqueLocal'],
    ['0.0.0.0', 'unspecified'],
    ['::', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['64:ff9b::a00:1', 'rfc6052'],
    ['2002:a00:1::', '6to4'],
    ['192.0.2.1', 'reserved'],
  ])('%s is refused (%s)', (address, range) => {
    expect(refusedRange(address, none)).toBe(range);
  });

  it.each(['8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:4700::1111', '::ffff:8.8.8.8'])(
    '%s is allowed',
    (address) => {
      expect(refusedRange(address, none)).toBeNull();
    },
  );

  it('the allow-list lets chosen ranges through, IPv4-mapped forms included', () => {
    const allowed = parseAllowedCidrs('127.0.0.1/32, 10.1.0.0/16,fd00::/8');
    expect(refusedRange('127.0.0.1', allowed)).toBeNull();
    expect(refusedRange('::ffff:127.0.0.1', allowed)).toBeNull();
    expect(refusedRange('127.0.0.2', allowed)).toBe('loopback');
    expect(refusedRange('10.1.200.3', allowed)).toBeNull();
    expect(refusedRange('10.2.0.1', allowed)).toBe('private');
    expect(refusedRange('fd00::5', allowed)).toBeNull();
    expect(() => parseAllowedCidrs('10.0.0.0')).toThrow(/WEBHOOK_DELIVERY_ALLOWED_CIDRS: '10.0.0.0'/);
    expect(() => parseAllowedCidrs('nope/8')).toThrow(/is not a CIDR/);
  });
});

describe('checkTarget', () => {
  const resolver = (answers: Record<string, string[]>) => async (host: string) => {
    const a = answers[host];
    if (!a) throw Object.assign(new Error('nx'), { code: 'ENOTFOUND' });
    return a.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };

  it('resolves once and returns the checked address to connect to', async () => {
    const t = await checkTarget(
      'https://hooks.example/x',
      none,
      'url',
      resolver({ 'hooks.example': ['93.184.216.34'] }),
    );
    expect(t).toMatchObject({ address: '93.184.216.34', family: 4 });
    expect(t.url.hostname).toBe('hooks.example');
  });

  it('refuses a host with any answer in a refused range (no mixed public/private answers)', async () => {
    await expect(
      checkTarget(
        'http://mixed.example/',
        none,
        'url',
        resolver({ 'mixed.example': ['93.184.216.34', '10.0.0.7'] }),
      ),
    ).rejects.toThrow(/'url': host 'mixed.example' resolves to 10.0.0.7, in a refused range \(private\)/);
  });

  it('names the field and the reason', async () => {
    await expect(checkTarget('gopher://x/', none, 'endpoint')).rejects.toThrow(UrlRefused);
    await expect(checkTarget('gopher://x/', none, 'endpoint')).rejects.toThrow(
      /^'endpoint' must be an http or https URL/,
    );
    await expect(checkTarget('http://nx.example/', none, 'url', resolver({}))).rejects.toThrow(
      /does not resolve \(ENOTFOUND\)/,
    );
  });
});
