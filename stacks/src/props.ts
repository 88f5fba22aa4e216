/**
 * Prop checks for the components: each throws with a message naming the prop and the value, so a
 * wrong value fails at `pulumi preview` with the reason, not deep inside a provider call.
 */

/** Throws unless `value` matches `pattern`. */
export function checkMatch(prop: string, value: string, pattern: RegExp, rule: string): string {
  if (!pattern.test(value)) throw new Error(`'${prop}' (${value}) ${rule}`);
  return value;
}

/** Throws unless `value` is an integer in [min, max]. */
export function checkInt(prop: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`'${prop}' (${value}) must be an integer between ${min} and ${max}`);
  }
  return value;
}

export const CLUSTER_NAME = /^[a-z][a-z0-9-]{0,30}[a-z0-9]$/;
export const AWS_REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;
export const K8S_MINOR = /^1\.\d{2}$/;
export const IPV4_CIDR =
  /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}\/(\d|[12]\d|3[0-2])$/;
export const ECR_REPOSITORY = /^[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/;
export const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export const checkClusterName = (value: string): string =>
  checkMatch('clusterName', value, CLUSTER_NAME, 'must be 2-32 lower-case letters, digits and dashes');
export const checkRegion = (value: string): string =>
  checkMatch('region', value, AWS_REGION, "is not an AWS region such as 'eu-west-1'");
