/**
 * ImageRegistry: the ECR repository CI pushes the Jobplane image to: scan on push, IMMUTABLE tags,
 * KMS encryption, and a lifecycle that expires untagged images.
 */
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { checkMatch, ECR_REPOSITORY } from '../props.js';

/** ECR lifecycle: expire untagged images after 14 days, keep the newest 200 tagged ones. */
export const ECR_LIFECYCLE_POLICY = JSON.stringify({
  rules: [
    {
      rulePriority: 1,
      description: 'expire untagged images after 14 days',
      selection: { tagStatus: 'untagged', countType: 'sinceImagePushed', countUnit: 'days', countNumber: 14 },
      action: { type: 'expire' },
    },
    {
      rulePriority: 2,
      description: 'keep the newest 200 images',
      selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 200 },
      action: { type: 'expire' },
    },
  ],
});

export interface ImageRegistryProps {
  readonly repositoryName: string;
  readonly kmsKeyArn: pulumi.Input<string>;
  /** Protected repositories are not force-deleted with their images. */
  readonly deletionProtection: boolean;
  readonly tags: Readonly<Record<string, string>>;
}

export class ImageRegistry extends pulumi.ComponentResource {
  readonly repositoryUrl: pulumi.Output<string>;

  constructor(name: string, props: ImageRegistryProps, opts?: pulumi.ComponentResourceOptions) {
    super('jobplane:eks:ImageRegistry', name, {}, opts);
    checkMatch('repositoryName', props.repositoryName, ECR_REPOSITORY, 'is not an ECR repository name');
    const repo = new aws.ecr.Repository(
      `${name}-ecr`,
      {
        name: props.repositoryName,
        imageTagMutability: 'IMMUTABLE',
        imageScanningConfiguration: { scanOnPush: true },
        encryptionConfigurations: [{ encryptionType: 'KMS', kmsKey: props.kmsKeyArn }],
        forceDelete: !props.deletionProtection,
        tags: { ...props.tags },
      },
      { parent: this },
    );
    new aws.ecr.LifecyclePolicy(
      `${name}-ecr-lifecycle`,
      { repository: repo.name, policy: ECR_LIFECYCLE_POLICY },
      { parent: this },
    );
    this.repositoryUrl = repo.repositoryUrl;
    this.registerOutputs({ repositoryUrl: this.repositoryUrl });
  }
}
