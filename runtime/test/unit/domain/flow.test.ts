import { describe, expect, it } from 'vitest';
import { DomainError } from '../../../src/domain/errors.js';
import { rateKeyOf, redisFlowKey, resolveFlowSlot } from '../../../src/domain/flow.js';

const sub = { type: 'crm.sync', clientId: 'acme', payload: { tenant: { id: 42 }, name: 'x' } };

describe('resolveFlowSlot', () => {
  it('resolves the declared key: type, client, payload path', () => {
    expect(resolveFlowSlot({ concurrency: { limit: 2, key: 'type' } }, 'pooled', sub)).toEqual({
      key: 'type:crm.sync',
      limit: 2,
    });
    expect(resolveFlowSlot({ concurrency: { limit: 2, key: 'client' } }, 'pooled', sub)).toEqual({
      key: 'client:acme:crm.sync',
      limit: 2,
    });
    expect(resolveFlowSlot({ concurrency: { limit: 3, key: 'payload.tenant.id' } }, 'pooled', sub)).toEqual({
      key: 'payload:crm.sync:payload.tenant.id=42',
      limit: 3,
    });
    expect(resolveFlowSlot(undefined, 'pooled', sub)).toBeNull();
    expect(
      resolveFlowSlot({ rateLimit: { limit: 1, intervalMs: 10, key: 'type' } }, 'pooled', sub),
    ).toBeNull();
  });

  it("a submission's key is scoped to its client; its limit may only lower the type's", () => {
    const flow = { concurrency: { limit: 4, key: 'type' } };
    expect(resolveFlowSlot(flow, 'pooled', { ...sub, concurrencyKey: 'k' })).toEqual({
      key: 'key:acme:k',
      limit: 4,
    });
    expect(resolveFlowSlot(flow, 'pooled', { ...sub, concurrencyLimit: 1 })).toEqual({
      key: 'type:crm.sync',
      limit: 1,
    });
    expect(
      resolveFlowSlot(undefined, 'pooled', { ...sub, concurrencyKey: 'k', concurrencyLimit: 7 }),
    ).toEqual({
      key: 'key:acme:k',
      limit: 7,
    });
  });

  it.each([
    [{ concurrencyKey: 'k' }, false, '\'concurrencyKey\' ("k") needs a limit'],
    [
      { concurrencyLimit: 0, concurrencyKey: 'k' },
      false,
      "'concurrencyLimit' (0) must be an integer from 1 to 100000",
    ],
    [{ concurrencyLimit: 5 }, true, "'concurrencyLimit' (5) must be an integer from 1 to 4"],
    [{ concurrencyLimit: 2.5, concurrencyKey: 'k' }, false, "'concurrencyLimit' (2.5)"],
    [{ concurrencyKey: 'a\u0000', concurrencyLimit: 1 }, false, 'control characters'],
  ])('refuses %j naming the field (type declares a limit: %s)', (extra, declared, message) => {
    const flow = declared ? { concurrency: { limit: 4, key: 'type' } } : undefined;
    let err: unknown;
    try {
      resolveFlowSlot(flow, 'pooled', { ...sub, ...extra });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DomainError);
    expect((err as DomainError).code).toBe('REQUEST.INVALID');
    expect((err as DomainError).message).toContain(message);
  });

  it('refuses a payload key that is missing, empty or not a scalar, and flow fields on non-pooled types', () => {
    for (const payload of [{}, { tenant: { id: '' } }, { tenant: { id: [1] } }, { tenant: 'x' }]) {
      expect(() =>
        resolveFlowSlot({ concurrency: { limit: 1, key: 'payload.tenant.id' } }, 'pooled', {
          ...sub,
          payload,
        }),
      ).toThrow("'payload.tenant.id'");
    }
    expect(() =>
      resolveFlowSlot(undefined, 'isolated', { ...sub, concurrencyKey: 'k', concurrencyLimit: 1 }),
    ).toThrow("'concurrencyKey' applies to pooled job types only");
  });
});

describe('rate and Redis keys', () => {
  it('keys rate limits by type, client or concurrency key', () => {
    const t = { type: 'crm.sync', clientId: 'acme', slot: { key: 'key:acme:k', limit: 1 } };
    expect(rateKeyOf(undefined, t)).toBeNull();
    expect(rateKeyOf({ rateLimit: { limit: 1, intervalMs: 1, key: 'type' } }, t)).toBe('type:crm.sync');
    expect(rateKeyOf({ rateLimit: { limit: 1, intervalMs: 1, key: 'client' } }, t)).toBe(
      'client:acme:crm.sync',
    );
    expect(rateKeyOf({ rateLimit: { limit: 1, intervalMs: 1, key: 'concurrencyKey' } }, t)).toBe(
      'slot:key:acme:k',
    );
    expect(
      rateKeyOf({ rateLimit: { limit: 1, intervalMs: 1, key: 'concurrencyKey' } }, { ...t, slot: null }),
    ).toBe('type:crm.sync');
  });

  it('hashes keys for Redis: hex only, slot and rate names differ', () => {
    const a = redisFlowKey('slot', 'key:acme:{evil}\r\n');
    expect(a).toMatch(/^[0-9a-f]{40}$/);
    expect(redisFlowKey('rate', 'key:acme:{evil}\r\n')).not.toBe(a);
  });
});
