/**
 * Typed L1 constructs for the custom resources the platform emits: KEDA, Argo CD and the
 * Prometheus Operator. `cdk8s import` would generate these from the CRDs, but it downloads them;
 * instead the props are the TypeScript interfaces that @kubernetes-models/{keda, argo-cd,
 * prometheus-operator} generate from the same CRDs (maintained packages the verifier already
 * validates against), so a misspelt field or a wrong type fails `tsc`, not only the verifier.
 * Each class is a cdk8s `ApiObject`: the escape hatch is `addJsonPatch`, as for every L1.
 */
import { ApiObject, type ApiObjectMetadata } from 'cdk8s';
import type { Construct } from 'constructs';
import type { IScaledJob, IScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import type { IAppProject, IApplication } from '@kubernetes-models/argo-cd/argoproj.io/v1alpha1';
import type {
  IPodMonitor,
  IPrometheusRule,
  IServiceMonitor,
} from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import type { IAlertmanagerConfig } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1alpha1';

/** The model's fields without apiVersion/kind, with cdk8s object metadata (name required). */
export type CrdProps<T> = Omit<T, 'apiVersion' | 'kind' | 'metadata'> & {
  readonly metadata: ApiObjectMetadata & { readonly name: string };
};

export class KedaScaledObject extends ApiObject {
  static readonly GVK = { apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject' } as const;
  constructor(scope: Construct, id: string, props: CrdProps<IScaledObject>) {
    super(scope, id, { ...KedaScaledObject.GVK, ...props });
  }
}

export class KedaScaledJob extends ApiObject {
  static readonly GVK = { apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledJob' } as const;
  constructor(scope: Construct, id: string, props: CrdProps<IScaledJob>) {
    super(scope, id, { ...KedaScaledJob.GVK, ...props });
  }
}

export class ArgoCdApplicationResource extends ApiObject {
  static readonly GVK = { apiVersion: 'argoproj.io/v1alpha1', kind: 'Application' } as const;
  constructor(scope: Construct, id: string, props: CrdProps<IApplication>) {
    super(scope, id, { ...ArgoCdApplicationResource.GVK, ...props });
  }
}

export class ArgoCdAppProjectResource extends ApiObject {
  static readonly GVK = { apiVersion: 'argoproj.io/v1alpha1', kind: 'AppProject' } as const;
  constructor(scope: Construct, id: string, props: CrdProps<IAppProject>) {
    super(scope, id, { ...ArgoCdAppProjectResource.GVK, ...props });
  }
}

export class PromServiceMonitor extends ApiObject {
  static readonly GVK = { apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor' } as const;
  constructor(scope: Construct, id: string, props: CrdProps<IServiceMonitor>) {
    super(scope, id, { ...PromServiceMonitor.GVK, ...props });
  }
}

export class PromPodMonitor extends ApiObject {
  static readonly GVK = { apiVersion: 'monitoring.coreos.com/v1', kind: 'PodMonitor' } as const;
  constructor(scope: Construct, id: string, props: CrdProps<IPodMonitor>) {
    super(scope, id, { ...PromPodMonitor.GVK, ...props });
  }
}

export class PromPrometheusRule extends ApiObject {
  static readonly GVK = { apiVersion: 'monitoring.coreos.com/v1', kind: 'PrometheusRule' } as const;
  constructor(scope: Construct, id: string, props: CrdProps<IPrometheusRule>) {
    super(scope, id, { ...PromPrometheusRule.GVK, ...props });
  }
}

export class PromAlertmanagerConfig extends ApiObject {
  static readonly GVK = { apiVersion: 'monitoring.coreos.com/v1alpha1', kind: 'AlertmanagerConfig' } as const;
  constructor(scope: Construct, id: string, props: CrdProps<IAlertmanagerConfig>) {
    super(scope, id, { ...PromAlertmanagerConfig.GVK, ...props });
  }
}
