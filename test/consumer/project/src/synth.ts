// The team's infrastructure: the platform for its own catalog, sized per queue by name.
import { App, Chart } from 'cdk8s';
import { JobPlatform, devEnvironment, formatFindings, verifyManifests } from '@jobplane/constructs';
import catalog from './catalog.js';
import { loadedHandlers } from './loaded.js';

const app = new App({ outdir: 'manifests' });
const chart = new Chart(app, 'acme-jobs');
new JobPlatform(chart, 'platform', {
  catalog,
  environment: {
    ...devEnvironment,
    name: 'acme',
    imageRepository: 'registry.example.com/acme/jobs',
    workers: { greetings: { maxReplicas: 3 } },
    isolated: { renders: { maxReplicas: 5 } },
  },
  imageTag: 'v1.4.2',
  catalogModule: '/app/dist/catalog.js',
});
const findings = await verifyManifests(chart.toJson(), { catalog });
if (findings.length > 0) throw new Error(`verification failed:\n${formatFindings(findings)}`);
// The chart needs the catalog's data only: no handler module may have been imported.
if (loadedHandlers().length > 0)
  throw new Error(`synth imported handler code: ${loadedHandlers().join(', ')}`);
app.synth();
