import { describe, expect, it } from 'vitest';
import { NamespacedReader, type NamespacedReaderProps } from '../src/namespaced-reader.js';
import { find, synth } from './helpers.js';

const base: NamespacedReaderProps = {
  name: 'reader',
  namespace: 'jobplane-jobs',
  serviceAccount: { name: 'prom', namespace: 'jobplane' },
  resources: [{ apiGroup: '', resources: ['pods'] }],
};

describe('NamespacedReader', () => {
  const defaults = synth((s) => new NamespacedReader(s, 'r', base));

  it('matches the snapshot', () => {
    expect(defaults).toMatchSnapshot();
  });

  it('grants only get/list/watch in one namespace to one ServiceAccount', () => {
    expect(find(defaults, 'Role', 'reader')['rules']).toEqual([
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
    ]);
    const rb = find(defaults, 'RoleBinding', 'reader');
    expect(rb.metadata.namespace).toBe('jobplane-jobs');
    expect(rb['subjects']).toEqual([
      { apiGroup: '', kind: 'ServiceAccount', name: 'prom', namespace: 'jobplane' },
    ]);
    expect(rb['roleRef']).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'reader' });
  });

  it.each([
    [{ resources: [] }, `'resources' (empty) must name at least one resource`],
    [{ resources: [{ apiGroup: '', resources: ['*'] }] }, `'resources' ('/*') must not use wildcards`],
    [
      { resources: [{ apiGroup: '', resources: ['secrets'] }] },
      `'resources' ('secrets') is not readable through NamespacedReader`,
    ],
    [{ namespace: 'A' }, `'namespace' ('A') must be a lowercase RFC 1123 label`],
  ])('rejects %j', (props, message) => {
    expect(() => synth((s) => new NamespacedReader(s, 'r', { ...base, ...props }))).toThrow(message);
  });
});
