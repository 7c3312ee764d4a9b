import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { App } from 'aws-cdk-lib';
import { createApp } from '../infra/app.ts';
import { readDistribution, type DistributionConfig, type S3Origin } from '../local/edge/distribution.ts';
import type { CfnTemplate } from '../local/pipeline/template.ts';
import { loadTenants } from '../local/settings.ts';
import { BUCKETS } from '../local/topology.ts';
import { startTwin, type Twin } from '../local/twin.ts';
import { useTwin } from './support/twin-fixture.ts';

const TENANTS_FILE = join(import.meta.dirname, '..', 'local', 'demo-tenants.json');

let twin: Twin;
let deployed: DistributionConfig;

const fixture = useTwin({ config: await loadTenants(TENANTS_FILE), pipeline: false });

before(async () => {
  twin = await fixture.started;
  // The app `cdk deploy` runs, in the twin's topology: the primary in us-east-1, one replica in eu-west-1.
  const { app, delivery } = createApp(new App({ context: { tenants: TENANTS_FILE, primaryRegion: BUCKETS.originals.region, replicaRegions: BUCKETS.replica.region } }));
  deployed = readDistribution(app.synth().getStackByName(delivery.edgeStack.stackName).template as CfnTemplate);
});

/** A bucket by what it holds and where, whatever its name: the twin's names are shorter than a deployment's. */
function role(bucket: string, region: string): string {
  const holds = bucket.includes('originals') ? 'originals' : bucket.includes('variants') ? 'variants' : `unknown ${bucket}`;
  return `${holds} in ${region}`;
}

function origin(o: S3Origin) {
  const copies = (o.customHeaders['x-pictor-originals'] ?? '').split(',').map((domain) => {
    const [, bucket, region] = /^(.+)\.s3\.([a-z0-9-]+)\.amazonaws\.com$/.exec(domain) ?? [];
    return role(bucket ?? domain, region ?? '?');
  });
  return { ...o, id: undefined, domain: undefined, bucket: role(o.bucket, o.region), customHeaders: { ...o.customHeaders, 'x-pictor-originals': copies } };
}

describe("the twin's edge is the deployed distribution", () => {
  it('has the same behaviours, cache and response headers policies, in the same order', () => {
    const shape = (d: DistributionConfig) => d.behaviors.map((b) => ({ ...b, matches: String(b.matches) }));
    assert.deepEqual(shape(twin.distribution), shape(deployed));
  });

  it('fails over between the same origins, with the same triggers, timeouts, Origin Shield and custom headers', () => {
    assert.deepEqual(twin.distribution.originGroup.failoverStatuses, deployed.originGroup.failoverStatuses);
    assert.deepEqual(twin.distribution.originGroup.members.map(origin), deployed.originGroup.members.map(origin));
    // Both origins are variants buckets, each reading its own region's originals first.
    assert.deepEqual(
      deployed.originGroup.members.map((o) => [role(o.bucket, o.region), origin(o).customHeaders['x-pictor-originals'][0]]),
      [
        ['variants in us-east-1', 'originals in us-east-1'],
        ['variants in eu-west-1', 'originals in eu-west-1'],
      ],
    );
  });

  it('runs the same viewer function and holds the origin-request function to the same timeout', () => {
    assert.equal(twin.distribution.viewerFunctionCode, deployed.viewerFunctionCode);
    assert.equal(twin.distribution.originRequestTimeoutMs, deployed.originRequestTimeoutMs);
  });

  it('keeps takedown-eligible tenants at the edge for at most 60 s, as the deployment would', async () => {
    const eligible = await startTwin({ config: await loadTenants(TENANTS_FILE), dataDir: join(fixture.dir, 'eligible'), logLevel: 'SILENT', pipeline: false, takedownEligibleTenants: ['demo'] });
    try {
      const behavior = eligible.distribution.behaviors.find((b) => b.pathPattern === '/img/demo/*');
      assert.equal(behavior?.cachePolicy.maxTtl, 60);
    } finally {
      await eligible.close();
    }
  });
});
