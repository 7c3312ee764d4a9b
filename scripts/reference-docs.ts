// Writes the reference pages generated from the code: `npm run docs:reference`.
// test/reference-docs.test.ts fails when a committed page and the code differ.
//  - docs/ERROR-CODES.md from core's error vocabulary (scripts/error-reference.ts);
//  - docs/TENANT-CONFIG.md from the tenants file's zod schema (core/tenant-config.ts);
//  - docs/EVENTS.md from the event schemas (events/schemas/).
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { MAX_ACTIVE_KEYS } from '../core/signing.ts';
import { ConfigSchema, parseConfig, policyOf, STORE_QUOTAS, type TenantConfig } from '../core/tenant-config.ts';
import { encodePolicy } from '../core/tenant-policy.ts';
import { MAX_EVENT_ENTRY_BYTES } from '../events/publish.ts';
import { ObjectCreated, ObjectDeleted } from '../events/schemas/object-created.ts';
import { PICTOR_EVENTS, PICTOR_SOURCE, type PictorDetailType } from '../events/schemas/pictor-events.ts';
import { TASK_REGISTRY } from '../tasks/registry.ts';
import { renderErrorReference } from './error-reference.ts';
import { fieldRows, fieldTable, jsonSchemaOf } from './schema-table.ts';

const docs = (name: string) => fileURLToPath(new URL(`../docs/${name}`, import.meta.url));

/** Every generated page: where it goes and what writes it. */
export const REFERENCE_PAGES: readonly { readonly path: string; readonly render: () => string }[] = [
  { path: docs('ERROR-CODES.md'), render: renderErrorReference },
  { path: docs('TENANT-CONFIG.md'), render: renderTenantConfigReference },
  { path: docs('EVENTS.md'), render: renderEventsReference },
];

export const REGENERATE_COMMAND = 'npm run docs:reference';

/** docs/TENANT-CONFIG.md: every field of a tenants file, from the schema's own metadata. */
export function renderTenantConfigReference(): string {
  const schema = jsonSchemaOf(ConfigSchema);
  const defaults = parseConfig({ tenants: { shop: {} } }).tenants.shop as TenantConfig;
  const bytes = (text: string) => new TextEncoder().encode(text).length;
  const policy = encodePolicy(policyOf(defaults));
  return [
    '# Tenant configuration',
    '',
    `<!-- Generated from the zod schema in core/tenant-config.ts by \`${REGENERATE_COMMAND}\`; do not edit. -->`,
    '',
    `${schema.description} Every field of a tenant is optional and has the default below;`,
    'an unknown field is refused. `local/demo-tenants.json` is an example. A file that breaks a rule is refused as a',
    'whole, and each problem names where it is, for example `tenants.shop.defaultQuality: must be one of qualities (50, 75)`.',
    '',
    'A tenant is known at the edge and in the pipeline once `pictor tenants put` has written it to the tenant stores',
    '(CloudFront KeyValueStores); a change needs no deploy. See [RUNBOOK.md](RUNBOOK.md#add-a-tenant).',
    '',
    '## Fields',
    '',
    ...fieldTable(fieldRows(schema), { showDefault: true }),
    '',
    '## Limits across the file',
    '',
    'These follow from the CloudFront KeyValueStore that carries the tenants to the edge',
    '(https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html#limits-keyvaluestores):',
    '',
    `- a tenant's edge policy (its breakpoints, qualities, default quality, formats, signing switch, TTLs and referers, in`,
    `  compact JSON) is at most ${STORE_QUOTAS.valueBytes} bytes, and so is its configuration for the pipeline;`,
    `- a signing secret is at most ${STORE_QUOTAS.valueBytes} bytes, and a tenant has at most ${MAX_ACTIVE_KEYS} active keys;`,
    `- each store holds at most ${STORE_QUOTAS.totalBytes} bytes (${STORE_QUOTAS.totalBytes / 1024 / 1024} MB) of keys and values in all;`,
    '- no two tenants share a secret: with one tenant\'s secret, anyone could sign the other\'s URLs.',
    '',
    '## A tenant with every default',
    '',
    '`{"tenants": {"shop": {}}}` is this tenant:',
    '',
    '```json',
    prettyJson(defaults),
    '```',
    '',
    `Its edge policy, as the viewer function reads it from the KeyValueStore under \`tenant:shop\` (${bytes(policy)} bytes):`,
    '',
    '```json',
    policy,
    '```',
    '',
  ].join('\n');
}

/** docs/EVENTS.md: every event Pictor consumes or publishes, from its zod schema. */
export function renderEventsReference(): string {
  const lines = [
    '# Events',
    '',
    `<!-- Generated from the zod schemas in events/schemas/ by \`${REGENERATE_COMMAND}\`; do not edit. -->`,
    '',
    "Pictor's own events have the source `" + PICTOR_SOURCE + '` and travel on its own event bus, `<pipeline stack>-events`',
    '(`Pictor-pipeline-events` with the CDK app as it is), not the account\'s default bus. The bus\'s policy admits each',
    'detail-type only from the roles named to send it. Each detail is validated against its schema by the task that',
    `publishes it and again by the task that consumes it, and an entry is at most ${MAX_EVENT_ENTRY_BYTES / 1024} KB`,
    '(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html).',
    '',
    'A schema change that breaks consumers gets a new `schemaVersion`, never an edit. The field tables list `detail`;',
    '`{tenant}`-style names stand for a map\'s keys and `[]` for an array\'s items. Limits are those the schema checks.',
    '',
    '## Consumed from S3',
    '',
    'Amazon S3 sends these to the default event bus for the originals bucket, which has EventBridge notifications on',
    '(https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html). Only the fields Pictor reads are listed;',
    'the tables list the whole event.',
  ];
  for (const [detailType, schema] of [['Object Created', ObjectCreated], ['Object Deleted', ObjectDeleted]] as const) {
    const json = jsonSchemaOf(schema);
    lines.push('', `### ${detailType}`, '', `- source: \`aws.s3\``, `- detail-type: \`${detailType}\``, '', json.description ?? '', '');
    lines.push(...fieldTable(fieldRows(json), { showDefault: false }), '', 'Example:', '', '```json', prettyJson(exampleOf(schema)), '```');
  }
  lines.push('', "## Pictor's events");
  for (const detailType of Object.keys(PICTOR_EVENTS) as PictorDetailType[]) {
    const schema = PICTOR_EVENTS[detailType];
    const json = jsonSchemaOf(schema);
    const publishers = Object.entries(TASK_REGISTRY)
      .filter(([, task]) => ((task as { publishes?: readonly string[] }).publishes ?? []).includes(detailType))
      .map(([name]) => `\`${name}\``);
    lines.push(
      '',
      `### ${detailType}`,
      '',
      `- source: \`${PICTOR_SOURCE}\``,
      `- detail-type: \`${detailType}\``,
      `- schemaVersion: ${JSON.stringify(json.properties?.schemaVersion?.const)}`,
      publishers.length ? `- published by the task${publishers.length > 1 ? 's' : ''} ${publishers.join(', ')} (tasks/registry.ts)` : '- sent by you (an operator, or a system of yours), never by a task',
      '',
      json.description ?? '',
      '',
      ...fieldTable(fieldRows(json), { showDefault: false }),
      '',
      'Example `detail`:',
      '',
      '```json',
      prettyJson(exampleOf(schema)),
      '```',
    );
  }
  return lines.join('\n') + '\n';
}

/** JSON indented by two, with arrays of plain values on one line. */
function prettyJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(/\[\s+([^[\]{}]*?)\s+\]/g, (_, inner: string) => `[${inner.split(/,\s+/).join(', ')}]`);
}

/** The example a schema's metadata carries; the test parses each with its schema. */
export function exampleOf(schema: z.ZodType): unknown {
  const examples = z.globalRegistry.get(schema)?.examples as readonly unknown[] | undefined;
  if (!examples?.length) throw new Error('An event schema needs an example in its .meta({ examples }).');
  return examples[0];
}

/** Every event schema the events page documents, by detail-type. */
export const DOCUMENTED_EVENTS: Readonly<Record<string, z.ZodType>> = { 'Object Created': ObjectCreated, 'Object Deleted': ObjectDeleted, ...PICTOR_EVENTS };

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const page of REFERENCE_PAGES) {
    writeFileSync(page.path, page.render());
    console.log(`Wrote ${page.path}.`);
  }
}
