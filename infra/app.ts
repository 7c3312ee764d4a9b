import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { parseConfig } from '../core/tenant-config.ts';
import { ImageDelivery } from './image-delivery.ts';

/**
 * The CDK app `npx cdk synth` and `npx cdk deploy` run (see cdk.json). Context:
 * `-c tenants=path/to/tenants.json` (default local/demo-tenants.json),
 * `-c primaryRegion=…`, `-c replicaRegions=eu-west-1,ap-northeast-1`,
 * `-c alarmEmails=ops@example.com,…`, `-c alarmTopicArns=arn:aws:sns:us-east-1:…:pager,…`.
 */
export function createApp(app = new App()): { app: App; delivery: ImageDelivery } {
  const context = (name: string): string | undefined => app.node.tryGetContext(name);
  const tenantsFile = context('tenants') ?? 'local/demo-tenants.json';
  const tenants = parseConfig(JSON.parse(readFileSync(tenantsFile, 'utf8')), tenantsFile);
  const delivery = new ImageDelivery(app, 'Pictor', {
    tenants,
    account: process.env.CDK_DEFAULT_ACCOUNT,
    primaryRegion: context('primaryRegion'),
    replicaRegions: context('replicaRegions')?.split(','),
    alarmSubscribers: { emails: context('alarmEmails')?.split(','), topicArns: context('alarmTopicArns')?.split(',') },
  });
  // A finding of AWS Solutions that no acknowledgement explains fails the synth.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, delivery };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) createApp().app.synth();
