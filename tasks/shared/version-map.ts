import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { PictorError } from '../../core/errors.ts';
import { normalizeSequencer } from '../../core/sequencer.ts';

/** One image's row in the version map. */
export interface VersionRecord {
  readonly tenant: string;
  readonly imageId: string;
  /** The published version: what versioned URLs are made of. 0 before the first publish. */
  readonly version: number;
  /** The sequencer of the upload that published `version` (fixed width, so string order is event order). */
  readonly sequencer?: string;
  /** The highest upload sequencer a version was reserved for. */
  readonly reservedSequencer?: string;
  readonly etag?: string;
  /** The variant set the published version was rendered at (its names, sorted): lets a re-render skip what is current. */
  readonly schema?: string;
  readonly updatedAt?: string;
  /** Set by a takedown: nothing renders or publishes this image again. */
  readonly tombstonedAt?: string;
}

/**
 * The version map. Two rules keep versions from going backwards under duplicate
 * and out-of-order S3 events:
 * - a version is reserved only for an upload newer than every earlier reservation,
 *   so version numbers follow upload order;
 * - a version is published only over a lower one, and never on a tombstone.
 */
export class VersionMap {
  constructor(private readonly documents: DynamoDBDocumentClient, private readonly table: string) {}

  async get(tenant: string, imageId: string): Promise<VersionRecord | null> {
    const result = await guard(this.documents.send(new GetCommand({ TableName: this.table, Key: { id: id(tenant, imageId) }, ConsistentRead: true })));
    return result.Item ? toRecord(result.Item) : null;
  }

  /**
   * The next version for an upload; null when a newer upload has already reserved
   * one, or on a tombstone. A re-render reserves for the upload it last saw
   * reserved (`sameUpload`), and loses to any upload reserved since.
   */
  async reserve(tenant: string, imageId: string, sequencer: string, sameUpload = false): Promise<number | null> {
    const result = await conditionally(
      this.documents.send(new UpdateCommand({
        TableName: this.table,
        Key: { id: id(tenant, imageId) },
        UpdateExpression: 'SET tenant = :tenant, imageId = :image, reservedSequencer = :seq ADD nextVersion :one',
        ConditionExpression: `(attribute_not_exists(reservedSequencer) OR reservedSequencer ${sameUpload ? '<=' : '<'} :seq) AND attribute_not_exists(tombstonedAt)`,
        ExpressionAttributeValues: { ':tenant': tenant, ':image': imageId, ':seq': normalizeSequencer(sequencer), ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      })),
    );
    return result ? Number(result.Attributes?.nextVersion) : null;
  }

  /**
   * Publishes a rendered version; null when a higher version is already published or
   * the image is tombstoned. Publishing the same version again (a retry after a later
   * step failed) succeeds and reports the same previous version, rather than reading
   * as a lost race whose objects the caller would delete.
   */
  async publish(tenant: string, imageId: string, version: number, sequencer: string, etag: string, schema?: string): Promise<{ previousVersion: number } | null> {
    const result = await conditionally(
      this.documents.send(new UpdateCommand({
        TableName: this.table,
        Key: { id: id(tenant, imageId) },
        UpdateExpression:
          'SET previousVersion = if_not_exists(version, :zero), version = :v, sequencer = :seq, etag = :etag, updatedAt = :now' + (schema === undefined ? '' : ', #schema = :schema'),
        ConditionExpression: '(attribute_not_exists(version) OR version < :v OR (version = :v AND sequencer = :seq)) AND attribute_not_exists(tombstonedAt)',
        ExpressionAttributeValues: {
          ':v': version,
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
    if (!result) return null;
    const old = result.Attributes ?? {};
    // On a repeat, the old `previousVersion` is the one the first publish wrote.
    return { previousVersion: Number(old.version === version ? old.previousVersion : (old.version ?? 0)) };
  }

  /** Marks an image taken down (the first time counts); returns the record, tombstoned. Idempotent. */
  async tombstone(tenant: string, imageId: string, reason: string): Promise<VersionRecord & { tombstonedAt: string }> {
    const result = await guard(
      this.documents.send(new UpdateCommand({
        TableName: this.table,
        Key: { id: id(tenant, imageId) },
        UpdateExpression: 'SET tenant = :tenant, imageId = :image, tombstonedAt = if_not_exists(tombstonedAt, :now), tombstoneReason = :reason',
        ExpressionAttributeValues: { ':tenant': tenant, ':image': imageId, ':now': new Date().toISOString(), ':reason': reason },
        ReturnValues: 'ALL_NEW',
      })),
    );
    return toRecord(result.Attributes!) as VersionRecord & { tombstonedAt: string };
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
    etag: item.etag as string | undefined,
    schema: item.schema as string | undefined,
    updatedAt: item.updatedAt as string | undefined,
    tombstonedAt: item.tombstonedAt as string | undefined,
  };
}
