import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { signWithNewestKey } from '../signer/sign-url.ts';
import { sampleImage } from './sample-image.ts';
import type { PictorConfig } from '../core/tenant-config.ts';
import { loadTenants, readSettings, startupProblem, type LocalSettings } from './settings.ts';
import { BUCKETS, REGIONS, TWIN_HEALTH_PATH } from './twin-names.ts';
import { resolveTokens } from './pipeline/template.ts';
import { startTwin, type Twin } from './twin.ts';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// A setting, the tenants file or a port the twin cannot start with is one line saying what to
// change, and exit code 1; anything else is a bug, shown in full.
let settings: LocalSettings | undefined;
let started: { config: PictorConfig; twin: Twin };
try {
  settings = readSettings();
  const config = await loadTenants(settings.tenantsFile);
  const twin = await startTwin({
    config,
    dataDir: settings.dataDir,
    edgePort: settings.edgePort,
    controlPort: settings.controlPort,
    apiPort: settings.apiPort,
    s3Port: settings.s3Port,
    dynamodbPort: settings.dynamodbPort,
    regionPorts: settings.regionPorts,
    invalidationDelayMs: settings.invalidationDelayMs,
    replicationDelayMs: settings.replicationDelayMs,
    browserOrigins: settings.browserOrigins,
    // AWS's own timing unless PICTOR_TIME_SCALE says otherwise: a takedown waits minutes for its invalidation.
    timeScale: settings.timeScale,
    logLevel: 'WARN',
  });
  started = { config, twin };
} catch (error) {
  const problem = startupProblem(error, settings);
  if (!problem) throw error;
  console.error(`pictor: the twin did not start. ${problem}`);
  process.exit(1);
}
const { config, twin } = started;

// Seed the demo image for every tenant, so the URLs below work on a fresh clone: uploaded,
// then published by RenderOnUpload, as any upload is. Once there, it is left alone, so a
// restart does not publish a new version.
const sample = await sampleImage();
for (const tenant of Object.keys(config.tenants)) {
  const key = `${tenant}/sample`;
  const present = await twin.s3Client.send(new HeadObjectCommand({ Bucket: BUCKETS.originals.bucket, Key: key })).then(() => true, () => false);
  if (!present) await twin.s3Client.send(new PutObjectCommand({ Bucket: BUCKETS.originals.bucket, Key: key, Body: sample, ContentType: 'image/jpeg' }));
}
await twin.settled();

const edge = twin.edgeUrl;
const lines = [`Pictor's local twin is running (tenants from ${settings.tenantsFile}; data in ${settings.dataDir}).`, ''];
lines.push(`  edge (CloudFront)        ${edge}`);
lines.push(`  CloudFront API           ${twin.controlUrl}/2020-05-31/distribution/EPICTORLOCAL/invalidation`);
lines.push(`  S3-compatible server     ${twin.s3.endpoint}  buckets: ${Object.values(BUCKETS).map((b) => b.bucket).join(', ')}`);
for (const [name, endpoint] of Object.entries(twin.endpoints)) lines.push(`    ${name.padEnd(22)} ${endpoint}  buckets: ${REGIONS[name]!.join(', ')}`);
if (twin.dynamodb) lines.push(`  DynamoDB-compatible      ${twin.dynamodb.endpoint}  tables: pictor-versions, pictor-idempotency`);
lines.push(`  EventBridge, Step Functions, STS APIs on ${twin.controlUrl}`);
if (twin.apiUrl) lines.push(`  control API (IAM-signed)  ${twin.apiUrl}/v1/...   health: curl ${twin.apiUrl}/v1/health`);
lines.push(`  health                   ${twin.controlUrl}${TWIN_HEALTH_PATH}   (or: npm run --silent pictor -- twin health)`);
if (twin.pipeline) {
  lines.push(`    event bus ${twin.pipeline.eventBusName}: "Takedown Requested" only from ${twin.pipeline.requesters.takedown}`);
  lines.push(`    ${' '.repeat(`event bus ${twin.pipeline.eventBusName}: `.length)}"Rerender Requested" only from ${twin.pipeline.requesters.rerender}`);
}
lines.push('', 'Try:');
lines.push(`  curl -i '${edge}/img/demo/sample?w=287&utm_source=x'      # 320 px wide; repeat it for a Hit`);
lines.push(`  curl -i '${edge}/img/demo/sample?fmt=webp&W=640'`);
lines.push(`  curl -i '${edge}/img/demo/sample?w=-1'                     # 400 with a JSON error`);
const signed = Object.entries(config.tenants).find(([, tenant]) => tenant.signing.required);
if (signed) {
  const [tenant] = signed;
  // Signed with the newest key as Secrets Manager holds it (the registry may have generated it).
  const url = signWithNewestKey(`/img/${tenant}/sample?w=320`, tenant, await twin.registry.tenantWithKeys(tenant), new Date(Date.now() + 3600_000));
  lines.push(`  curl -i '${edge}/img/${tenant}/sample?w=320'               # 403: ${tenant} requires signed URLs`);
  lines.push(`  curl -i '${edge}${url}'`);
  lines.push(`  npm run --silent pictor -- sign '/img/${tenant}/sample?w=320'   # sign another`);
}
lines.push('', 'The pipeline, through the control API (as the account\'s admin; --role-arn to act as a tenant\'s role):');
lines.push(`  npm run --silent pictor -- upload photo.jpg --tenant demo --id my-photo   # renders the standard variants`);
lines.push(`  npm run --silent pictor -- url --tenant demo --id my-photo --w 640          # the canonical versioned URL`);
lines.push(`  npm run --silent pictor -- status --tenant demo --id my-photo             # its versions, URLs and last run`);
lines.push(`  npm run --silent pictor -- rerender --tenant demo                          # every original again, as new versions`);
lines.push(`  npm run --silent pictor -- takedown --tenant demo --id my-photo --reason dmca   # you are the requester`);
const tenantRoles = Object.entries((twin.pipeline?.template as { Outputs?: Record<string, { Value: unknown }> } | undefined)?.Outputs ?? {}).filter(([name]) => name.startsWith('TenantRole'));
if (tenantRoles.length > 0) {
  lines.push("  Tenants' roles, for --role-arn:");
  for (const [name, output] of tenantRoles) lines.push(`    ${name.slice('TenantRole'.length).padEnd(20)} ${resolveTokens(output.Value, twin.pipeline!.template, {})}`);
}
lines.push('', 'Tenants and keys, without a restart (the control API\'s admin routes):');
lines.push(`  npm run --silent pictor -- tenants list`);
lines.push(`  npm run --silent pictor -- keys rotate --tenant ${signed ? signed[0] : 'demo'}`);
lines.push('', 'Game days (a region of S3 fails; viewers should not notice):');
lines.push(`  npm run --silent pictor -- twin fault --region ${BUCKETS.originals.region} --mode 503      # or hang, refuse; off to recover`);
lines.push('', 'Ctrl-C stops it.');
console.log(lines.join('\n'));

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await twin.close();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
