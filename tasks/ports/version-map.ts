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
  /** Who made the latest reservation (an upload event's or a re-render item's idempotency key), and the version it got. */
  readonly reservedBy?: string;
  readonly reservedVersion?: number;
  /** Every version ever published, the latest among them. */
  readonly publishedVersions: readonly number[];
  /** The latest published version's predecessor. */
  readonly previousVersion?: number;
  readonly etag?: string;
  /** The variant set the published version was rendered at (its names, sorted): lets a re-render skip what is current. */
  readonly schema?: string;
  readonly updatedAt?: string;
  /** Set by a takedown: nothing renders or publishes this image again. */
  readonly tombstonedAt?: string;
  /** The newest upload RenderOnUpload has seen for this image, and the execution handling it: what the control API's status follows. */
  readonly lastUpload?: UploadNote;
}

/** An upload as RenderOnUpload's first task notes it. */
export interface UploadNote {
  /** The upload's S3 sequencer, fixed width: string order is upload order. */
  readonly sequencer: string;
  /** The RenderOnUpload execution handling it. */
  readonly executionArn: string;
  /** When it was noted, ISO 8601. */
  readonly at: string;
}

/** What publishing a version came to. */
export type PublishOutcome =
  /** It is published: now (`fresh`), or by an earlier attempt whose answer was lost. `latest` unless a higher one followed. */
  | { readonly published: true; readonly fresh: boolean; readonly latest: boolean; readonly previousVersion: number }
  /** A higher version was published first, or the image was taken down. */
  | { readonly published: false; readonly reason: 'superseded' | 'taken-down' };

/**
 * The version map: which version of each image is published, and which are
 * taken down. Two rules keep versions from going backwards under duplicate and
 * out-of-order S3 events:
 * - a version is reserved only for an upload newer than every earlier reservation,
 *   so version numbers follow upload order;
 * - a version is published only over a lower one, and never on a tombstone.
 * Both are idempotent: a retry, whatever step of the first attempt failed, gets
 * the same answer as the first attempt, so a lost answer never loses an upload.
 * Implemented on DynamoDB by tasks/shared/dynamodb-version-map.ts. Every method
 * fails with PictorError OriginUnavailable when the map does not answer.
 */
export interface VersionMap {
  /** The image's record, or null for an image never uploaded nor taken down. */
  get(tenant: string, imageId: string): Promise<VersionRecord | null>;
  /**
   * Notes the newest upload of an image and the execution handling it; a note of an
   * older (or the same) upload changes nothing, so duplicate and out-of-order events
   * never move it back. Touches nothing the reservations, publishes or tombstones write.
   */
  noteUpload(tenant: string, imageId: string, note: UploadNote): Promise<void>;
  /**
   * The next version, reserved for one upload (or one re-render of it) named by
   * `reservation`; null when a newer upload has reserved one since, or on a
   * tombstone. A re-render reserves for the upload it last saw reserved
   * (`sameUpload`), and loses to any upload reserved since. Asking again for the
   * same reservation returns the same version, as long as nothing newer came.
   */
  reserve(tenant: string, imageId: string, sequencer: string, reservation: string, sameUpload?: boolean): Promise<number | null>;
  /**
   * Publishes a rendered version over any lower one, never on a tombstone, and
   * records it among the published versions. Publishing a version that was
   * published before reports it published rather than lost.
   */
  publish(tenant: string, imageId: string, version: number, sequencer: string, etag: string, schema?: string): Promise<PublishOutcome>;
  /** Marks an image taken down (the first time counts) and returns its record, tombstoned. Idempotent. */
  tombstone(tenant: string, imageId: string, reason: string): Promise<VersionRecord & { tombstonedAt: string }>;
}
