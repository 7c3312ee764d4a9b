import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ROOT } from './bundle.ts';

const run = promisify(execFile);
const outdir = mkdtempSync(join(tmpdir(), 'pictor-cdk-out-'));
after(() => rmSync(outdir, { recursive: true, force: true }));
/** What `cdk synth` printed on stderr, for the tests after the synth. */
let stderr: string | undefined;

describe('npx cdk synth', () => {
  it('synthesizes the whole system with no AWS credentials and no Docker', { timeout: 240_000 }, async () => {
    // A fresh machine: no AWS_* variables, and a Docker that cannot run.
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_') && !name.startsWith('CDK_')));
    ({ stderr } = await run(join(ROOT, 'node_modules', '.bin', 'cdk'), ['synth', '--no-notices', '--quiet', '--output', outdir], {
      cwd: ROOT,
      // No instance metadata either, where CI runs on a cloud machine.
      env: { ...env, AWS_EC2_METADATA_DISABLED: 'true', CDK_DOCKER: '/nonexistent/docker', HOME: outdir },
      maxBuffer: 64 * 1024 * 1024,
    }));
    // Neither a cdk-nag finding nor a property CloudFormation would refuse at deploy time.
    assert.doesNotMatch(stderr, /ERROR|CloudFormation Validate/);
    const templates = readdirSync(outdir).filter((f) => f.endsWith('.template.json'));
    const resources = templates.flatMap((f) => Object.values(JSON.parse(readFileSync(join(outdir, f), 'utf8')).Resources) as { Type: string; Properties?: any }[]);
    const count = (type: string) => resources.filter((r) => r.Type === type).length;
    assert.equal(templates.length, 4, templates.join(', '));
    assert.equal(count('AWS::CloudFront::Distribution'), 1);
    // CloudFront reads both origins' variants with Origin Access Control, never an origin access identity.
    assert.equal(count('AWS::CloudFront::OriginAccessControl'), 1);
    assert.equal(count('AWS::CloudFront::CloudFrontOriginAccessIdentity'), 0);
    // The viewer-request function and the viewer-response one.
    assert.equal(count('AWS::CloudFront::Function'), 2);
    assert.equal(count('AWS::WAFv2::WebACL'), 1);
    assert.equal(count('AWS::StepFunctions::StateMachine'), 3);
    assert.ok(count('AWS::CloudWatch::Alarm') >= 3 + 3);
    const distribution = resources.find((r) => r.Type === 'AWS::CloudFront::Distribution')!.Properties.DistributionConfig;
    assert.equal(distribution.OriginGroups.Quantity, 1);
    assert.equal(distribution.Origins.length, 2);
    for (const origin of distribution.Origins) assert.match(JSON.stringify(origin.DomainName), /"pictor-variants-".*\.s3\./, origin.Id);
    assert.equal(distribution.DefaultCacheBehavior.LambdaFunctionAssociations[0].EventType, 'origin-request');
    const replication = resources.filter((r) => r.Type === 'AWS::S3::Bucket' && r.Properties?.ReplicationConfiguration);
    assert.equal(replication[0]?.Properties.ReplicationConfiguration.Rules.length, 2);
  });

  it("selects each stack by the name the README's table gives it, as CloudFormation shows it", { timeout: 60_000 }, async () => {
    assert.ok(stderr !== undefined, 'cdk synth ran');
    const cdk = join(ROOT, 'node_modules', '.bin', 'cdk');
    const env = { ...process.env, HOME: outdir };
    // The README's table, its {region} rows for the default replica regions.
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const named = [...readme.matchAll(/^\| `(Pictor-[^`]+)` \|/gm)].flatMap(([, name]) => (name!.includes('{region}') ? ['eu-west-1', 'ap-northeast-1'].map((r) => name!.replace('{region}', r)) : [name!]));
    const { stdout } = await run(cdk, ['ls', '--no-notices', '--app', outdir], { cwd: ROOT, env });
    assert.deepEqual(stdout.trim().split('\n').sort(), [...named].sort());
    // What a user types: `cdk synth Pictor-edge` finds the stack (it answers "No stacks match" otherwise).
    for (const name of named) await run(cdk, ['synth', name, '--no-notices', '--quiet', '--app', outdir], { cwd: ROOT, env });
    const manifest = JSON.parse(readFileSync(join(outdir, 'manifest.json'), 'utf8')) as { artifacts: Record<string, { type: string; displayName?: string; properties?: { stackName?: string } }> };
    for (const [id, artifact] of Object.entries(manifest.artifacts).filter(([, a]) => a.type === 'aws:cloudformation:stack')) {
      assert.equal(artifact.displayName ?? id, artifact.properties?.stackName ?? id);
    }
  });

  it("leaves none of the demo tenants' signing secrets in cdk.out (templates, assets, bundles) or in any function's environment", () => {
    assert.ok(stderr !== undefined, 'cdk synth ran');
    const demo = JSON.parse(readFileSync(join(ROOT, 'local', 'demo-tenants.json'), 'utf8')) as { tenants: Record<string, { signing?: { keys?: Record<string, string> } }> };
    const secrets = Object.values(demo.tenants).flatMap((t) => Object.values(t.signing?.keys ?? {}));
    assert.ok(secrets.length >= 2, 'the demo has secrets to look for');
    // As written, and as a template or a bundle could encode them.
    const needles = secrets.flatMap((s) => [s, Buffer.from(s).toString('base64'), Buffer.from(s).toString('base64url'), JSON.stringify(s).slice(1, -1)]).map((n) => Buffer.from(n));
    const files = readdirSync(outdir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
    assert.ok(files.some((f) => f.endsWith('index.mjs')), 'the bundles are there');
    const found = files.filter((file) => {
      const bytes = readFileSync(file);
      return needles.some((needle) => bytes.includes(needle));
    });
    assert.deepEqual(found, []);
    for (const template of files.filter((f) => f.endsWith('.template.json'))) {
      for (const [id, resource] of Object.entries(JSON.parse(readFileSync(template, 'utf8')).Resources) as [string, { Type: string; Properties?: any }][]) {
        if (resource.Type !== 'AWS::Lambda::Function') continue;
        const environment = JSON.stringify(resource.Properties?.Environment ?? {});
        for (const secret of secrets) assert.ok(!environment.includes(secret), `${id}'s environment`);
        assert.ok(!environment.includes('PICTOR_TENANTS'), `${id}: no tenants in an environment`);
      }
    }
  });

  it('prints no CDK warning', () => {
    assert.ok(stderr !== undefined, 'cdk synth ran');
    assert.doesNotMatch(stderr, /WARNING/);
  });
});
