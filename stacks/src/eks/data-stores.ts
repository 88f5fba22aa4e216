/**
 * EksDataStores: the managed Redis (ElastiCache) and PostgreSQL (RDS) of an EKS environment, both
 * optional, both in the private subnets and reachable only from the EKS cluster security group.
 *
 * - Redis: parameter group with `maxmemory-policy noeviction` (BullMQ's requirement), TLS in transit
 *   with an AUTH token, encryption at rest; replica + automatic failover when `replicas` > 1.
 * - PostgreSQL: private, encrypted, automated backups; deletion protection and a final snapshot
 *   when `deletionProtection`.
 * @see https://docs.bullmq.io/guide/going-to-production#max-memory-policy
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import * as random from '@pulumi/random';
import type { EksSettings } from '../config.js';
import { checkClusterName, checkInt } from '../props.js';

/** Connection details of the managed data stores (absent when disabled). */
export interface ManagedRedis {
  readonly host: pulumi.Output<string>;
  readonly port: number;
  readonly authToken: pulumi.Output<string>;
}
export interface ManagedPostgres {
  readonly host: pulumi.Output<string>;
  readonly port: pulumi.Output<number>;
  readonly database: string;
  readonly username: string;
  readonly password: pulumi.Output<string>;
}

export interface EksDataStoresProps {
  readonly clusterName: string;
  readonly vpcId: pulumi.Input<string>;
  readonly privateSubnetIds: pulumi.Input<string>[];
  /** The only source allowed to connect. */
  readonly clusterSecurityGroupId: pulumi.Input<string>;
  readonly kmsKeyArn: pulumi.Input<string>;
  readonly redis: EksSettings['redis'];
  readonly postgres: EksSettings['postgres'];
  readonly deletionProtection: boolean;
  readonly tags: Readonly<Record<string, string>>;
}

/** Checks the sizes a provider would only refuse at `pulumi up`. */
export function checkDataStoreProps(
  props: Pick<EksDataStoresProps, 'clusterName' | 'redis' | 'postgres'>,
): void {
  checkClusterName(props.clusterName);
  if (props.redis.enabled) checkInt('redis.replicas', props.redis.replicas, 1, 6);
  if (props.postgres.enabled) {
    checkInt('postgres.storageGb', props.postgres.storageGb, 20, 65536);
    checkInt('postgres.backupRetentionDays', props.postgres.backupRetentionDays, 1, 35);
  }
}

export class EksDataStores extends pulumi.ComponentResource {
  readonly redis?: ManagedRedis;
  readonly postgres?: ManagedPostgres;

  constructor(name: string, props: EksDataStoresProps, opts?: pulumi.ComponentResourceOptions) {
    super('jobplane:eks:DataStores', name, {}, opts);
    checkDataStoreProps(props);
    const parent = { parent: this };
    const tags = { ...props.tags };

    /** A data store's security group: one TCP port, from the EKS cluster security group only, no egress. */
    const securityGroup = (role: string, label: string, port: number): aws.ec2.SecurityGroup =>
      new aws.ec2.SecurityGroup(
        `${name}-${role}-sg`,
        {
          vpcId: props.vpcId,
          description: `${label}: reachable from the EKS cluster security group only`,
          ingress: [
            {
              protocol: 'tcp',
              fromPort: port,
              toPort: port,
              securityGroups: [props.clusterSecurityGroupId],
              description: 'EKS',
            },
          ],
          egress: [],
          tags,
        },
        parent,
      );

    if (props.redis.enabled) {
      const sg = securityGroup('redis', 'Redis', 6379);
      const subnetGroup = new aws.elasticache.SubnetGroup(
        `${name}-redis-subnets`,
        { description: 'private subnets', subnetIds: props.privateSubnetIds, tags },
        parent,
      );
      const params = new aws.elasticache.ParameterGroup(
        `${name}-redis-params`,
        {
          family: 'redis7',
          description: 'BullMQ needs noeviction',
          parameters: [{ name: 'maxmemory-policy', value: 'noeviction' }],
          tags,
        },
        parent,
      );
      const authToken = new random.RandomPassword(
        `${name}-redis-auth`,
        { length: 40, special: false },
        parent,
      );
      const multi = props.redis.replicas > 1;
      const rg = new aws.elasticache.ReplicationGroup(
        `${name}-redis`,
        {
          replicationGroupId: `${props.clusterName}-redis`,
          description: `${props.clusterName} BullMQ queues`,
          engine: 'redis',
          engineVersion: '7.1',
          nodeType: props.redis.nodeType,
          numCacheClusters: props.redis.replicas,
          automaticFailoverEnabled: multi,
          multiAzEnabled: multi,
          port: 6379,
          parameterGroupName: params.name,
          subnetGroupName: subnetGroup.name,
          securityGroupIds: [sg.id],
          atRestEncryptionEnabled: true,
          kmsKeyId: props.kmsKeyArn,
          transitEncryptionEnabled: true,
          authToken: authToken.result,
          snapshotRetentionLimit: props.deletionProtection ? 7 : 1,
          autoMinorVersionUpgrade: true,
          applyImmediately: !props.deletionProtection,
          tags,
        },
        parent,
      );
      this.redis = {
        host: rg.primaryEndpointAddress,
        port: 6379,
        authToken: pulumi.secret(authToken.result),
      };
    }

    if (props.postgres.enabled) {
      const sg = securityGroup('postgres', 'PostgreSQL', 5432);
      const subnetGroup = new aws.rds.SubnetGroup(
        `${name}-postgres-subnets`,
        { description: 'private subnets', subnetIds: props.privateSubnetIds, tags },
        parent,
      );
      // No '/', '@', '"' or spaces (RDS rule), and URL-safe for DATABASE_URL.
      const password = new random.RandomPassword(
        `${name}-postgres-password`,
        { length: 40, special: false },
        parent,
      );
      const db = new aws.rds.Instance(
        `${name}-postgres`,
        {
          identifier: `${props.clusterName}-postgres`,
          engine: 'postgres',
          engineVersion: props.postgres.version,
          instanceClass: props.postgres.instanceClass,
          allocatedStorage: props.postgres.storageGb,
          maxAllocatedStorage: props.postgres.storageGb * 5,
          storageType: 'gp3',
          storageEncrypted: true,
          kmsKeyId: props.kmsKeyArn,
          dbName: 'jobplane',
          username: 'jobplane',
          password: password.result,
          dbSubnetGroupName: subnetGroup.name,
          vpcSecurityGroupIds: [sg.id],
          publiclyAccessible: false,
          multiAz: props.postgres.multiAz,
          backupRetentionPeriod: props.postgres.backupRetentionDays,
          deletionProtection: props.deletionProtection,
          skipFinalSnapshot: !props.deletionProtection,
          ...(props.deletionProtection
            ? { finalSnapshotIdentifier: `${props.clusterName}-postgres-final` }
            : {}),
          copyTagsToSnapshot: true,
          autoMinorVersionUpgrade: true,
          applyImmediately: !props.deletionProtection,
          tags,
        },
        parent,
      );
      this.postgres = {
        host: db.address,
        port: db.port,
        database: 'jobplane',
        username: 'jobplane',
        password: pulumi.secret(password.result),
      };
    }
    this.registerOutputs({});
  }
}
