// A repository that consumes @jobplane/constructs: its own chart, its own image, the dev sizing.
import { App, Chart } from 'cdk8s';
import { JobPlatform, devEnvironment } from '@jobplane/constructs';

const app = new App({ outdir: 'manifests' });
const chart = new Chart(app, 'acme-jobs');
new JobPlatform(chart, 'platform', {
  environment: { ...devEnvironment, name: 'acme', imageRepository: 'registry.example.com/acme/jobplane' },
  imageTag: 'v1.4.2',
  extraWorkerPools: [{ name: 'acme-worker-default-b', queue: 'default', concurrency: 20 }],
});
app.synth();
