/**
 * The verifier's rules, in ONE table: id, area, what the rule checks, and the message a finding
 * of it carries (the finding adds the object and the offending detail). docs/infra.md renders
 * this table (`renderRuleTable`, kept in sync by a test); every rule has a planted-defect test
 * (infra/test/verify-rules.test.ts), and a meta-test shows that disabling any single rule makes
 * its planted defect pass unnoticed.
 *
 * A workload added elsewhere (e.g. a launcher construct) registers its own checks with
 * {@link registerRule} + {@link registerCheck} (verify/index.ts) instead of editing this file.
 */

export type RuleArea =
  | 'schema'
  | 'api-server'
  | 'references'
  | 'cross-object'
  | 'security'
  | 'scheduling'
  | 'capacity'
  | 'contract'
  | 'gitops';

export interface RuleSpec {
  readonly id: string;
  readonly area: RuleArea;
  /** What the rule checks. */
  readonly checks: string;
  /** The message of a finding (the finding adds the detail). */
  readonly message: string;
}

const rule = (id: string, area: RuleArea, checks: string, message: string): RuleSpec => ({
  id,
  area,
  checks,
  message,
});

/** Every built-in rule. */
export const BUILTIN_RULES = [
  // --- schema
  rule(
    'V1',
    'schema',
    'every object validates against the upstream JSON schema of its kind (kubernetes-models, @kubernetes-models/{keda,argo-cd,prometheus-operator}); unknown kinds are refused',
    'schema: <validation error> / no schema for <kind>',
  ),
  rule(
    'V1-strict',
    'schema',
    'no field the kind does not declare (a field tree generated from the same packages)',
    "unknown field '<path>' (not in the <kind> schema)",
  ),
  rule(
    'V1-name',
    'api-server',
    'object names: DNS subdomains ≤ 253, or DNS labels ≤ 63 for Namespaces and Services; container, volume and port names (IANA service names ≤ 15)',
    "metadata.name '<name>' must be a DNS label/subdomain",
  ),
  rule(
    'V1-label',
    'api-server',
    'label and annotation keys are qualified names (optional DNS-subdomain prefix, name ≤ 63), label values ≤ 63 and alphanumeric at both ends; also in templates and selectors',
    "label <key>='<value>' is not a valid label",
  ),
  rule(
    'V1-dup',
    'api-server',
    'no two objects with the same group, kind, namespace and name',
    'duplicate object: <kind>/<namespace>/<name> is emitted <n> times',
  ),
  // --- what the API server rejects
  rule(
    'API-port',
    'api-server',
    'port numbers (container, Service, targetPort, probes, NetworkPolicy) are in 1..65535',
    'port <n> is outside 1..65535',
  ),
  rule(
    'API-port-dup',
    'api-server',
    'container port names are unique within a container; a Service has no duplicate port names or numbers',
    "duplicate port name '<name>'",
  ),
  rule(
    'API-resources',
    'api-server',
    'a container request is not above its limit (cpu, memory)',
    'requests.<r> (<q>) is above limits.<r> (<q>)',
  ),
  rule(
    'API-env',
    'api-server',
    'an env var sets `value` or `valueFrom`, not both; `valueFrom` has exactly one source',
    'env <name> sets both value and valueFrom',
  ),
  rule(
    'API-handler',
    'api-server',
    'a probe or lifecycle hook has exactly one handler (exec, httpGet, tcpSocket, grpc, sleep)',
    '<probe> has <n> handlers (<list>): exactly one is allowed',
  ),
  rule(
    'API-rollout',
    'api-server',
    'a RollingUpdate Deployment does not set maxSurge and maxUnavailable both to 0',
    'maxSurge and maxUnavailable are both 0',
  ),
  rule(
    'API-scale-bounds',
    'api-server',
    'HPA minReplicas ≤ maxReplicas; ScaledObject/ScaledJob minReplicaCount ≤ maxReplicaCount',
    'min (<n>) is above max (<m>)',
  ),
  // --- references
  rule(
    'REF-namespace',
    'references',
    'namespaced objects name a namespace that is synthesized or declared external (the stacks own the platform namespaces)',
    "namespace '<ns>' is neither synthesized nor declared external",
  ),
  rule(
    'REF-service',
    'references',
    "a StatefulSet's serviceName exists",
    "serviceName '<name>' does not exist",
  ),
  rule(
    'REF-pdb',
    'references',
    'a PodDisruptionBudget selects pods of a workload',
    'selector <s> matches no workload',
  ),
  rule(
    'REF-scale-target',
    'references',
    'HPA and ScaledObject targets exist',
    'scaleTargetRef <kind>/<name> does not exist',
  ),
  rule(
    'REF-configmap',
    'references',
    'ConfigMaps referenced by volumes (also projected), env and envFrom exist',
    "ConfigMap '<name>' does not exist",
  ),
  rule(
    'REF-secret',
    'references',
    'Secrets referenced by volumes, projected volumes, env and envFrom are synthesized or declared external',
    "Secret '<name>' is not declared external",
  ),
  rule(
    'REF-volume',
    'references',
    'every volumeMount has a volume (or claim template)',
    "volumeMount '<name>' has no volume",
  ),
  rule(
    'REF-role',
    'references',
    'a RoleBinding refers to a Role in its namespace',
    'roleRef <kind>/<name> is not a Role',
  ),
  rule(
    'REF-subject',
    'references',
    'RoleBinding ServiceAccount subjects exist',
    'subject ServiceAccount <ns>/<name> does not exist',
  ),
  rule(
    'REF-ingress',
    'references',
    'an Ingress names a class and a cluster issuer, its backends are existing Services with that port, every TLS host has a rule',
    'backend Service <name> has no port <port>',
  ),
  rule(
    'K7',
    'references',
    'pods use an existing ServiceAccount, never the deprecated serviceAccount field',
    "serviceAccountName '<sa>' does not exist",
  ),
  rule(
    'K6-selector',
    'references',
    "a workload's selector matches its pod template",
    'spec.selector does not match the pod template labels',
  ),
  rule(
    'K6-service',
    'references',
    'a Service selects pods',
    "selector <s> matches no pod template in '<ns>'",
  ),
  rule(
    'K6-target-port',
    'references',
    "a Service's targetPort is a container port of the pods it selects",
    'targetPort <p> is not a container port of <workload>',
  ),
  rule(
    'K6-probe-port',
    'references',
    'probe ports are container ports',
    '<probe> port <p> is not a container port',
  ),
  rule(
    'N1',
    'references',
    'every namespace with workloads has a default-deny NetworkPolicy and every workload a specific allow',
    "no NetworkPolicy allows this workload's traffic explicitly",
  ),
  // --- cross-object
  rule(
    'X-monitor-port',
    'cross-object',
    'a ServiceMonitor endpoint port is a named port of a Service it selects; a PodMonitor port a named container port',
    "ServiceMonitor port '<p>' is not a port of any Service it selects",
  ),
  rule(
    'X-scalers',
    'cross-object',
    'one autoscaler per target: not an HPA and a ScaledObject on the same workload',
    '<target> is scaled by both <hpa> and <scaledobject>',
  ),
  rule(
    'X-replicas',
    'cross-object',
    'a Deployment scaled by an HPA or a ScaledObject does not set spec.replicas (Argo CD would fight the scaler)',
    'spec.replicas is set, but <scaler> owns the replica count',
  ),
  rule(
    'X-priority',
    'scheduling',
    'every pod sets a priorityClassName, and that PriorityClass is synthesized (or declared external)',
    "priorityClassName '<name>' is not a synthesized PriorityClass",
  ),
  rule(
    'X-priority-order',
    'scheduling',
    'api and relay pods have a higher priority than workers, workers a higher one than Jobs',
    '<a> (<pa>) must have a higher priority than <b> (<pb>)',
  ),
  rule(
    'X-spread',
    'scheduling',
    'topology spread constraints and pod (anti-)affinity terms select the pod itself (else they do nothing)',
    'topologySpreadConstraints[<i>] does not select the pod it is on',
  ),
  rule(
    'X-zone-spread',
    'scheduling',
    'with zone spread configured, api, relay and worker Deployments spread over topology.kubernetes.io/zone',
    'no topologySpreadConstraint on topology.kubernetes.io/zone',
  ),
  // --- capacity
  rule(
    'CAP-fit',
    'capacity',
    "every pod's requests (containers summed, init containers max) fit the environment's largest node allocatable",
    'pod requests <cpu> CPU / <mem>, the largest node (<node>) has <cpu> / <mem> allocatable',
  ),
  rule(
    'CAP-pool',
    'capacity',
    'scaler maxima × requests of every workload stay within the node pool limits',
    'maxima × requests (<cpu> CPU, <mem>) exceed the node pool limits (<cpu> CPU, <mem>)',
  ),
  rule(
    'CAP-quota',
    'capacity',
    "a ScaledJob's maxReplicaCount × requests (and × limits, pods, Jobs) fits its namespace's ResourceQuota",
    'maxReplicaCount <n> × <r> = <total> exceeds the ResourceQuota <q>',
  ),
  // --- security
  rule(
    'S1',
    'security',
    'no Secret with data or stringData in Git output',
    'Secret with data/stringData in Git output',
  ),
  rule(
    'OWN1',
    'security',
    'no Namespace or Secret object for what the stacks own (external namespaces and Secrets): Argo CD would adopt and prune it',
    "Namespace '<ns>' is owned by the stacks and must not be synthesized",
  ),
  rule('P1', 'security', 'no hostNetwork, hostPID, hostIPC', '<field> is true'),
  rule('P2', 'security', 'no privileged containers or Windows hostProcess', 'privileged'),
  rule(
    'P3',
    'security',
    'capabilities drop ALL and add at most NET_BIND_SERVICE',
    'capabilities.drop must contain ALL',
  ),
  rule(
    'P4',
    'security',
    'only restricted-profile volume types',
    "volume '<name>' of type <type> is not allowed",
  ),
  rule('P5', 'security', 'no hostPort', 'hostPort <n>'),
  rule(
    'P6',
    'security',
    'allowPrivilegeEscalation explicitly false',
    'allowPrivilegeEscalation must be explicitly false',
  ),
  rule(
    'P7',
    'security',
    'runAsNonRoot true (pod or container), never false',
    'runAsNonRoot must be true (pod or container)',
  ),
  rule('P8', 'security', 'a numeric runAsUser other than 0', 'runAsUser is 0'),
  rule(
    'P9',
    'security',
    'seccompProfile RuntimeDefault or Localhost',
    'seccompProfile must be RuntimeDefault or Localhost',
  ),
  rule('P10', 'security', 'no custom SELinux user/role or type', 'seLinuxOptions.type <type>'),
  rule('P11', 'security', 'only safe sysctls, procMount Default', 'unsafe sysctl <name>'),
  rule('P12', 'security', 'AppArmor RuntimeDefault or Localhost', 'appArmorProfile <type>'),
  rule('P13', 'security', 'probes and lifecycle hooks do not set host', '<probe> sets host'),
  rule(
    'P14',
    'security',
    'a synthesized Namespace enforces the restricted Pod Security Standard with a pinned version',
    'namespace must be labelled pod-security.kubernetes.io/enforce=restricted with enforce-version',
  ),
  rule('K1', 'security', 'readOnlyRootFilesystem true', 'readOnlyRootFilesystem must be true'),
  rule(
    'K2',
    'security',
    'requests.cpu, requests.memory and limits.memory set',
    'resources.requests.cpu unset',
  ),
  rule(
    'K3',
    'security',
    'images have an explicit, non-latest tag or a digest',
    "image '<image>' has no explicit non-latest tag",
  ),
  rule(
    'K4',
    'security',
    'no duplicate env names, no literal credentials in env',
    'env <name> carries a literal value; use a secretKeyRef',
  ),
  rule(
    'K5',
    'security',
    'Jobs set ttlSecondsAfterFinished (CronJob templates do not)',
    'ttlSecondsAfterFinished unset',
  ),
  rule(
    'K8',
    'security',
    'multi-replica Deployments have podAntiAffinity; PDBs allow evictions (unhealthyPodEvictionPolicy set, not maxUnavailable 0 or minAvailable ≥ replicas)',
    '<n> replicas without podAntiAffinity',
  ),
  rule(
    'RB1',
    'security',
    'no cluster-wide RBAC, wildcards, secrets access, pod creation, escalate/bind/impersonate',
    'cluster-wide RBAC is not allowed',
  ),
  rule(
    'RB2',
    'security',
    'no default ServiceAccount; automountServiceAccountToken false unless the ServiceAccount is bound',
    'ServiceAccount must set automountServiceAccountToken: false',
  ),
  rule(
    'LR1',
    'security',
    "the container launcher's ServiceAccount is bound only in the jobs namespace, to a Role granting exactly its rules (create/get/list/watch/delete Jobs and Secrets, get/list/watch Pods, get pods/log); RB1 lets only this Role touch Secrets",
    'the launcher Role grants more (or other) than its rules',
  ),
  rule(
    'LR2',
    'security',
    "a NetworkPolicy selects the launcher's pods and allows egress to the Kubernetes API server (ipBlock, TCP 443 or 6443)",
    'no NetworkPolicy allows its pods egress to the API server',
  ),
  rule(
    'J1',
    'security',
    'Jobs set activeDeadlineSeconds, backoffLimit ≤ 6, restartPolicy Never/OnFailure; ScaledJob namespaces have a ResourceQuota and a LimitRange',
    'activeDeadlineSeconds unset',
  ),
  rule(
    'G1',
    'security',
    'worker grace > drain + 10 s; scaler cooldown and HPA scale-down window ≥ drain',
    'terminationGracePeriodSeconds (<g>) must be > DRAIN_TIMEOUT_SECONDS (<d>) + 10',
  ),
  // --- Argo CD sync
  rule(
    'SYNC-wave',
    'gitops',
    'every synthesized object has an argocd.argoproj.io/sync-wave',
    'missing argocd.argoproj.io/sync-wave',
  ),
  rule(
    'SYNC-crd',
    'gitops',
    'CRD-backed kinds carry SkipDryRunOnMissingResource=true; ScaledJobs ServerSideApply=true',
    'CRD-backed kind needs argocd.argoproj.io/sync-options SkipDryRunOnMissingResource=true',
  ),
  rule(
    'SYNC-order',
    'gitops',
    'what an object depends on syncs in an earlier wave: PriorityClasses, ServiceAccounts, ConfigMaps, Secrets, quotas, Roles and policies before pods; data stores before migrations before workloads; scale targets before scalers',
    'sync wave <w> is not after wave <w2> of <dependency> it depends on',
  ),
  // --- contract with the runtime
  rule(
    'C-command',
    'contract',
    'runtime containers run one real jobplane subcommand and keep the entrypoint',
    'args <a> must be one jobplane subcommand',
  ),
  rule(
    'C-env',
    'contract',
    "env names are runtime config keys (or the OpenTelemetry SDK's OTEL_* and NATS_URL), required ones present, literal values parse under the runtime's schema",
    'env <name> is not a runtime config key',
  ),
  rule(
    'C-queue',
    'contract',
    "worker and run-one queues are the catalog's queues of the right mode",
    "WORKER_QUEUES '<q>' is not a pooled queue of catalog '<c>'",
  ),
  rule(
    'C-port',
    'contract',
    'the port the runtime listens on is declared',
    'container ports <p> must include the port the runtime listens on',
  ),
  rule(
    'KEDA',
    'contract',
    'KEDA triggers use scaler types of KEDA 2.21 (the version the stacks install), known prometheus metadata keys, backlog queries count waiting + prioritized + active',
    "unknown KEDA scaler type '<type>'",
  ),
  // --- Argo CD objects
  rule(
    'A1',
    'gitops',
    "no Application in 'default'; 'default' neutered; exact repos and destinations; only PriorityClass cluster-wide; Secrets blacklisted; automated prune + self-heal + retry",
    "Application in project 'default'",
  ),
  rule(
    'A1-path',
    'gitops',
    "an Application's source path is an existing `charts-out/<env>` folder whose environment's cluster and namespace are the destination (or `argocd/apps` for the root)",
    "source path '<p>' is not the folder of the environment deployed to <destination>",
  ),
] as const satisfies readonly RuleSpec[];

export type BuiltinRuleId = (typeof BUILTIN_RULES)[number]['id'];
/** A rule id: a built-in one, or one registered by a construct library extension. */
export type RuleId = BuiltinRuleId | (string & {});

const registered: RuleSpec[] = [];

/** Adds a rule to the table (for checks registered outside this package's verifier). */
export function registerRule(spec: RuleSpec): void {
  if (allRules().some((r) => r.id === spec.id)) throw new Error(`verifier rule '${spec.id}' already exists`);
  registered.push(spec);
}

/** The whole table: built-in rules, then registered ones. */
export function allRules(): readonly RuleSpec[] {
  return [...BUILTIN_RULES, ...registered];
}

export function isRule(id: string): boolean {
  return allRules().some((r) => r.id === id);
}

/** The Markdown table of docs/infra.md. */
export function renderRuleTable(rules: readonly RuleSpec[] = BUILTIN_RULES): string {
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const lines = ['| id | area | checks | message |', '|---|---|---|---|'];
  // Messages hold <placeholders>: code spans keep Markdown from reading them as HTML.
  for (const r of rules) lines.push(`| ${r.id} | ${r.area} | ${esc(r.checks)} | \`${esc(r.message)}\` |`);
  return lines.join('\n');
}
