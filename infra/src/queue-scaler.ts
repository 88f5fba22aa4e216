/**
 * QueueScaler: a KEDA ScaledObject that scales a worker Deployment on the queue's real backlog
 * (`jobplane_queue_jobs` in states waiting + prioritized + active) through the KEDA `prometheus`
 * scaler. KEDA's `redis` list scaler only sees `LLEN bull:<q>:wait`, under-scales and can scale in
 * while jobs run (kedacore/keda#3674).
 *
 * Scale-in cannot kill in-flight jobs: active jobs are part of the metric, so the pool reaches
 * zero only when nothing is active; the cooldown and HPA scale-down window are at least one drain
 * (the queue's drain contract, from the catalog); removed pods drain on SIGTERM within a grace period longer than the
 * drain budget (see WorkerPool).
 * @see https://keda.sh/docs/latest/scalers/prometheus/
 * @see https://keda.sh/docs/latest/reference/scaledobject-spec/
 */
import type { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { KedaScaledObject } from './imports/crds.js';
import { drainContract, type Catalog } from '@jobplane/sdk';
import { checkCatalog, checkQueue } from './lib/catalog.js';
import { PropValidationError, checkDnsLabel, checkGte, checkInt } from './lib/errors.js';
import { objectLabels } from './lib/labels.js';
import { backlogQuery } from './lib/metrics.js';
import { argoAnnotations } from './lib/sync.js';

/** Scaling options a WorkerPool passes through. */
export interface QueueScalerOptions {
  /** Prometheus base URL KEDA queries, e.g. `http://jobplane-prometheus.jobplane.svc:9090`. */
  readonly prometheusAddress: string;
  /** @default 1 */
  readonly minReplicas?: number;
  /** @default 10 */
  readonly maxReplicas?: number;
  /** Allow 0 replicas when the backlog (including active jobs) is 0. @default false */
  readonly scaleToZero?: boolean;
  /** Backlog per replica KEDA aims for. @default the pool's concurrency */
  readonly targetBacklogPerReplica?: number;
  /** Seconds between metric polls. @default 15 */
  readonly pollingIntervalSeconds?: number;
  /** Cooldown before scaling to zero and HPA scale-down window. @default drainContract(catalog, queue).scaleDownStabilizationSeconds */
  readonly cooldownSeconds?: number;
}

export interface QueueScalerProps extends QueueScalerOptions {
  /** The Deployment to scale. */
  readonly target: { readonly kind: 'Deployment'; readonly name: string; readonly namespace: string };
  /** The job-type catalog the scaled workers run. */
  readonly catalog: Catalog;
  /** A pooled queue of `catalog`. */
  readonly queue: string;
}

export class QueueScaler extends Construct {
  /** The L1 ScaledObject (escape hatch). */
  readonly resource: ApiObject;
  readonly query: string;

  constructor(scope: Construct, id: string, props: QueueScalerProps) {
    super(scope, id);
    const catalog = checkCatalog('catalog', props.catalog);
    checkQueue('queue', catalog, props.queue, 'pooled');
    const drain = drainContract(catalog, props.queue);
    const scaleToZero = props.scaleToZero ?? false;
    const minReplicas = checkInt('minReplicas', props.minReplicas ?? (scaleToZero ? 0 : 1), 0);
    const maxReplicas = checkInt('maxReplicas', props.maxReplicas ?? 10, 1);
    checkGte('maxReplicas', maxReplicas, 'minReplicas', minReplicas);
    if (minReplicas === 0 && !scaleToZero) {
      throw new PropValidationError(`'minReplicas' (0) needs 'scaleToZero' (true)`);
    }
    const target = checkInt('targetBacklogPerReplica', props.targetBacklogPerReplica ?? 10, 1);
    const polling = checkInt('pollingIntervalSeconds', props.pollingIntervalSeconds ?? 15, 1, 3600);
    const cooldown = checkInt(
      'cooldownSeconds',
      props.cooldownSeconds ?? drain.scaleDownStabilizationSeconds,
      1,
    );
    checkGte('cooldownSeconds', cooldown, 'drainSeconds', drain.drainSeconds);
    let address: URL;
    try {
      address = new URL(props.prometheusAddress);
    } catch {
      throw new PropValidationError(
        `'prometheusAddress' ('${props.prometheusAddress}') must be an http(s) URL`,
      );
    }
    if (address.protocol !== 'http:' && address.protocol !== 'https:') {
      throw new PropValidationError(
        `'prometheusAddress' ('${props.prometheusAddress}') must be an http(s) URL`,
      );
    }
    checkDnsLabel('target.name', props.target.name);
    this.query = backlogQuery(props.queue);

    this.resource = new KedaScaledObject(this, 'Resource', {
      metadata: {
        name: props.target.name,
        namespace: props.target.namespace,
        labels: objectLabels('scaler', props.target.name),
        annotations: argoAnnotations('scalers', { crdBacked: true }),
      },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: props.target.kind, name: props.target.name },
        pollingInterval: polling,
        cooldownPeriod: cooldown,
        minReplicaCount: minReplicas,
        maxReplicaCount: maxReplicas,
        // Keep the current size if Prometheus is unreachable instead of collapsing to minReplicas.
        ...(minReplicas > 0 ? { fallback: { failureThreshold: 3, replicas: minReplicas } } : {}),
        advanced: {
          horizontalPodAutoscalerConfig: {
            behavior: {
              scaleDown: {
                stabilizationWindowSeconds: cooldown,
                policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }],
              },
            },
          },
        },
        triggers: [
          {
            type: 'prometheus',
            metricType: 'AverageValue',
            metadata: {
              serverAddress: props.prometheusAddress,
              query: this.query,
              threshold: String(target),
              activationThreshold: '0',
              ignoreNullValues: 'false',
            },
          },
        ],
      },
    });
  }
}
