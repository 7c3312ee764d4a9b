import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { PictorError } from '../../core/errors.ts';
import { normalizeSequencer } from '../../core/sequencer.ts';
import type { PublishOutcome, UploadNote, VersionMap, VersionRecord } from '../ports/version-map.ts';

/**
 * Every top-level attribute a reservation's and a publish's UpdateItem names, in
 * its update and its condition, the key among them: infra grants these tasks
 * UpdateItem on these alone (IAM's dynamodb:Attributes), so neither can touch
 * what the other or a takedown writes. Keep them in step with the expressions below.
 */
export const RESERVE_ATTRIBUTES = ['id', 'tenant', 'imageId', 'reservedSequencer', 'reservedBy', 'nextVersion', 'tombstonedAt'] as const;
export const PUBLISH_ATTRIBUTES = ['id', 'previousVersion', 'version', 'sequencer', 'etag', 'updatedAt', 'schema', 'publishedVersions', 'tombstonedAt'] as const;
/** What noting an upload names: its own attribute alone (and the key). */
export const NOTE_ATTRIBUTES = ['id', 'tenant', 'imageId', 'lastUpload'] as const;

/**
 * The VersionMap port on DynamoDB: conditional writes hold its two rules (see
 * tasks/ports/version-map.ts) under concurrent and repeated events.
 */
export class DynamoDbVersionMap implements VersionMap {
  /**
   * @param tombstones The tombstones table: where a takedown is recorded for good,
   *   by the one role allowed to write it (infra/task-access.ts). The version map's
   *   rows carry the tombstone too, for the conditions that keep a reservation or a
   *   publish off a taken-down image in the same write; but the roles that reserve
   *   and publish may name that attribute (IAM counts what a condition reads), so
   *   reads take the tombstone from this table whatever the row says.
   *   @default none: the rows' attribute alone
   */
  constructor(
    private readonly documents: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly tombstones?: string,
  ) {}

  async get(tenant: string, imageId: string): Promise<VersionRecord | null> {
    const read = (table: string) => guard(this.documents.send(new GetCommand({ TableName: table, Key: { id: id(tenant, imageId) }, ConsistentRead: true })));
    const [row, stone] = await Promise.all([read(this.table), this.tombstones ? read(this.tombstones) : undefined]);
    const tombstonedAt = stone?.Item?.tombstonedAt as string | undefined;
    if (!row.Item) return tombstonedAt ? { tenant, imageId, version: 0, publishedVersions: [], tombstonedAt } : null;
    const record = toRecord(row.Item);
    return tombstonedAt ? { ...record, tombstonedAt } : record;
  }

  async noteUpload(tenant: string, imageId: string, note: UploadNote): Promise<void> {
    await conditionally(
      this.documents.send(new UpdateCommand({
        TableName: this.table,
        Key: { id: id(tenant, imageId) },
        UpdateExpression: 'SET tenant = :tenant, imageId = :image, lastUpload = :note',
        ConditionExpression: 'attribute_not_exists(lastUpload) OR lastUpload.sequencer < :seq',
        ExpressionAttributeValues: { ':tenant': tenant, ':image': imageId, ':note': { ...note, sequencer: normalizeSequencer(note.sequencer) }, ':seq': normalizeSequencer(note.sequencer) },
      })),
    );
  }

  /**
   * The next version, reserved for one upload (or one re-render of it) named by
   * `reservation`; null when a newer upload has reserved one since, or on a
   * tombstone. A re-render reserves for the upload it last saw reserved
   * (`sameUpload`), and loses to any upload reserved since. Asking again for the
   * same reservation returns the same version, as long as nothing newer came.
   */
  async reserve(tenant: string, imageId: string, sequencer: string, reservation: string, sameUpload = false): Promise<number | null> {
    const result = await conditionally(
      this.documents.send(new UpdateCommand({
        TableName: this.table,
        Key: { id: id(tenant, imageId) },
        UpdateExpression: 'SET tenant = :tenant, imageId = :image, reservedSequencer = :seq, reservedBy = :by ADD nextVersion :one',
        ConditionExpression:
          `(attribute_not_exists(reservedSequencer) OR reservedSequencer ${sameUpload ? '<=' : '<'} :seq) ` +
          'AND (attribute_not_exists(reservedBy) OR reservedBy <> :by) AND attribute_not_exists(tombstonedAt)',
        ExpressionAttributeValues: { ':tenant': tenant, ':image': imageId, ':seq': normalizeSequencer(sequencer), ':by': reservation, ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      })),
    );
    if (result) return Number(result.Attributes?.nextVersion);
    const record = await this.get(tenant, imageId);
    return record && !record.tombstonedAt && record.reservedBy === reservation ? (record.reservedVersion ?? null) : null;
  }

  /**
   * Publishes a rendered version over any lower one, never on a tombstone, and
   * records it among the published versions. Publishing a version that was
   * published before (a retry after a later step failed, even once a higher one
   * followed) reports it published rather than lost, so that the caller completes
   * its work instead of deleting a published version's objects.
   */
  async publish(tenant: string, imageId: string, version: number, sequencer: string, etag: string, schema?: string): Promise<PublishOutcome> {
    const result = await conditionally(
      this.documents.send(new UpdateCommand({
        TableName: this.table,
        Key: { id: id(tenant, imageId) },
        UpdateExpression:
          'SET previousVersion = if_not_exists(version, :zero), version = :v, sequencer = :seq, etag = :etag, updatedAt = :now' +
          (schema === undefined ? '' : ', #schema = :schema') +
          ' ADD publishedVersions :vs',
        ConditionExpression: '(attribute_not_exists(version) OR version < :v) AND attribute_not_exists(tombstonedAt)',
        ExpressionAttributeValues: {
          ':v': version,
          ':vs': new Set([version]),
          ':zero': 0,
          ':seq': normalizeSequencer(sequencer),
          ':etag': etag,
          ':now': new Date().toISOString(),
          ...(schema === undefined ? {} : { ':schema': schema }),
        },
        ...(schema === undefined ? {} : { ExpressionAttributeNames: { '#schema': 'schema' } }),
        ReturnValues: 'UPDATED_OLD',
      })),
    );
    if (result) return { published: true, fresh: true, latest: true, previousVersion: Number(result.Attributes?.version ?? 0) };
    const record = await this.get(tenant, imageId);
    if (!record || record.tombstonedAt) return { published: false, reason: 'taken-down' };
    if (!record.publishedVersions.includes(version)) return { published: false, reason: 'superseded' };
    const latest = record.version === version;
    return { published: true, fresh: false, latest, previousVersion: latest ? (record.previousVersion ?? 0) : Math.max(0, ...record.publishedVersions.filter((v) => v < version)) };
  }

  /**
   * Marks an image taken down (the first time counts): in the tombstones table
   * first, then on the version map's row, whose conditions stop a reservation or
   * a publish from then on. Returns the record, tombstoned. Idempotent.
   */
  async tombstone(tenant: string, imageId: string, reason: string): Promise<VersionRecord & { tombstonedAt: string }> {
    const mark = (table: string, at: string) =>
      guard(
        this.documents.send(new UpdateCommand({
          TableName: table,
          Key: { id: id(tenant, imageId) },
          UpdateExpression: 'SET tenant = :tenant, imageId = :image, tombstonedAt = if_not_exists(tombstonedAt, :now), tombstoneReason = :reason',
          ExpressionAttributeValues: { ':tenant': tenant, ':image': imageId, ':now': at, ':reason': reason },
          ReturnValues: 'ALL_NEW',
        })),
      );
    let at = new Date().toISOString();
    if (this.tombstones) at = String((await mark(this.tombstones, at)).Attributes!.tombstonedAt);
    const record = toRecord((await mark(this.table, at)).Attributes!);
    // The tombstones table's time is the takedown's, whatever a row was made to say since.
    return { ...record, tombstonedAt: this.tombstones ? at : record.tombstonedAt! };
  }
}

/** SDK failures other than a failed condition are the dependency's, and worth a retry. */
async function guard<T>(pending: Promise<T>): Promise<T> {
  try {
    return await pending;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) throw error;
    throw new PictorError('OriginUnavailable', 'The version map did not answer.', { cause: error });
  }
}

/** A conditional write: null when its condition did not hold. */
async function conditionally<T>(pending: Promise<T>): Promise<T | null> {
  try {
    return await guard(pending);
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return null;
    throw error;
  }
}

function id(tenant: string, imageId: string): string {
  return `${tenant}/${imageId}`;
}

function toRecord(item: Record<string, unknown>): VersionRecord {
  return {
    tenant: String(item.tenant),
    imageId: String(item.imageId),
    version: Number(item.version ?? 0),
    sequencer: item.sequencer as string | undefined,
    reservedSequencer: item.reservedSequencer as string | undefined,
    reservedBy: item.reservedBy as string | undefined,
    reservedVersion: item.nextVersion === undefined ? undefined : Number(item.nextVersion),
    publishedVersions: [...((item.publishedVersions as Set<number> | undefined) ?? [])].map(Number).sort((a, b) => a - b),
    previousVersion: item.previousVersion === undefined ? undefined : Number(item.previousVersion),
    etag: item.etag as string | undefined,
    schema: item.schema as string | undefined,
    updatedAt: item.updatedAt as string | undefined,
    tombstonedAt: item.tombstonedAt as string | undefined,
    lastUpload: item.lastUpload as UploadNote | undefined,
  };
}
