/**
 * The kinds the verifier knows, as types from kubernetes-models and @kubernetes-models/*.
 * `gen-schema-fields.ts` walks these types to produce the field tree used by the strict
 * unknown-field check (the upstream validators accept unknown fields).
 * Export names are `<apiVersion with / and . as _>__<Kind>`.
 */
import type {
  IConfigMap,
  ILimitRange,
  INamespace,
  IPod,
  IResourceQuota,
  ISecret,
  IService,
  IServiceAccount,
} from 'kubernetes-models/v1';
import type { IDaemonSet, IDeployment, IStatefulSet } from 'kubernetes-models/apps/v1';
import type { ICronJob, IJob } from 'kubernetes-models/batch/v1';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1';
import type { IPriorityClass } from 'kubernetes-models/scheduling.k8s.io/v1';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import type { IIngress, INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import type {
  IClusterRole,
  IClusterRoleBinding,
  IRole,
  IRoleBinding,
} from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import type {
  IScaledJob,
  IScaledObject,
  ITriggerAuthentication,
} from '@kubernetes-models/keda/keda.sh/v1alpha1';
import type { IAppProject, IApplication } from '@kubernetes-models/argo-cd/argoproj.io/v1alpha1';
import type {
  IPodMonitor,
  IPrometheusRule,
  IServiceMonitor,
} from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import type { IAlertmanagerConfig } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1alpha1';

export type v1__ConfigMap = IConfigMap;
export type v1__LimitRange = ILimitRange;
export type v1__Namespace = INamespace;
export type v1__Pod = IPod;
export type v1__ResourceQuota = IResourceQuota;
export type v1__Secret = ISecret;
export type v1__Service = IService;
export type v1__ServiceAccount = IServiceAccount;
export type apps_v1__DaemonSet = IDaemonSet;
export type apps_v1__Deployment = IDeployment;
export type apps_v1__StatefulSet = IStatefulSet;
export type batch_v1__CronJob = ICronJob;
export type batch_v1__Job = IJob;
export type policy_v1__PodDisruptionBudget = IPodDisruptionBudget;
export type scheduling_k8s_io_v1__PriorityClass = IPriorityClass;
export type autoscaling_v2__HorizontalPodAutoscaler = IHorizontalPodAutoscaler;
export type networking_k8s_io_v1__Ingress = IIngress;
export type networking_k8s_io_v1__NetworkPolicy = INetworkPolicy;
export type rbac_authorization_k8s_io_v1__ClusterRole = IClusterRole;
export type rbac_authorization_k8s_io_v1__ClusterRoleBinding = IClusterRoleBinding;
export type rbac_authorization_k8s_io_v1__Role = IRole;
export type rbac_authorization_k8s_io_v1__RoleBinding = IRoleBinding;
export type keda_sh_v1alpha1__ScaledJob = IScaledJob;
export type keda_sh_v1alpha1__ScaledObject = IScaledObject;
export type keda_sh_v1alpha1__TriggerAuthentication = ITriggerAuthentication;
export type argoproj_io_v1alpha1__AppProject = IAppProject;
export type argoproj_io_v1alpha1__Application = IApplication;
export type monitoring_coreos_com_v1__PodMonitor = IPodMonitor;
export type monitoring_coreos_com_v1__PrometheusRule = IPrometheusRule;
export type monitoring_coreos_com_v1__ServiceMonitor = IServiceMonitor;
export type monitoring_coreos_com_v1alpha1__AlertmanagerConfig = IAlertmanagerConfig;
