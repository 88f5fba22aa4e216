/** The `JOBPLANE_WEBHOOKS` schema lives in `@jobplane/sdk/contract`. */
export {
  webhookSourcesSchema,
  standardSecretProblem,
  WEBHOOK_SOURCE_NAME,
  MIN_GITHUB_SECRET_LENGTH,
  type WebhookSourceConfig,
} from '@jobplane/sdk/contract';
