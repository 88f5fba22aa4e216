import { PropValidationError } from './errors.js';

/** A container image pinned by tag (a git SHA or release) or digest; never `latest`. */
export interface ImageRef {
  /** Repository, e.g. `jobplane/runtime` or an ECR URL. */
  readonly repository: string;
  /** Tag (git SHA / release). */
  readonly tag: string;
  /** Optional `sha256:` digest; when set it wins over the tag for pulling. */
  readonly digest?: string;
}

/** `repository:tag[@digest]`, refusing `latest`, empty tags and tags smuggled into the repository. */
export function imageString(prop: string, image: ImageRef): string {
  const lastSegment = image.repository.split('/').pop() ?? '';
  if (!/^[a-z0-9][a-z0-9._/:-]*$/.test(image.repository) || lastSegment.includes(':')) {
    throw new PropValidationError(
      `'${prop}.repository' ('${image.repository}') must be a repository without a tag`,
    );
  }
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(image.tag) || image.tag === 'latest') {
    throw new PropValidationError(
      `'${prop}.tag' ('${image.tag}') must be an explicit tag other than 'latest'`,
    );
  }
  if (image.digest !== undefined && !/^sha256:[a-f0-9]{64}$/.test(image.digest)) {
    throw new PropValidationError(`'${prop}.digest' ('${image.digest}') must be sha256:<64 hex>`);
  }
  return `${image.repository}:${image.tag}${image.digest ? `@${image.digest}` : ''}`;
}
