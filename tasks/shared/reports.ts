import { z } from 'zod';
import { PictorError } from '../../core/errors.ts';
import type { ObjectStore } from '../ports/object-store.ts';

/** An object in S3, as a state carries it instead of the object's contents. */
export const S3Location = z.object({ bucket: z.string().min(1), key: z.string().min(1) });
export type S3Location = z.infer<typeof S3Location>;

/**
 * The reports bucket, as the workflows use it: what does not fit a state's
 * 256 KiB (or should outlive it) is written here as JSON, and the state carries
 * its location. https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html#service-limits-task-executions
 */
export class Reports {
  constructor(readonly store: ObjectStore) {}

  get bucket(): string {
    return this.store.bucket;
  }

  /** Writes `value` as JSON under `key` (replacing what a failed attempt wrote there) and returns where. */
  async put(key: string, value: unknown): Promise<S3Location> {
    await this.store.put(key, JSON.stringify(value), { contentType: 'application/json' });
    return { bucket: this.store.bucket, key };
  }

  /**
   * Reads a JSON object this pipeline wrote, checked against its schema. One that
   * is missing or malformed is a broken hand-over, not a passing fault: InvalidEvent.
   */
  async get<T extends z.ZodType>(location: S3Location, schema: T): Promise<z.infer<T>> {
    if (location.bucket !== this.store.bucket) {
      throw new PictorError('InvalidEvent', `Refusing to read s3://${location.bucket}/${location.key}: not this pipeline's reports bucket.`);
    }
    const object = await this.store.get(location.key);
    if (!object) throw new PictorError('InvalidEvent', `s3://${location.bucket}/${location.key} is missing.`);
    let json: unknown;
    try {
      json = JSON.parse(object.body.toString('utf8'));
    } catch (error) {
      throw new PictorError('InvalidEvent', `s3://${location.bucket}/${location.key} is not JSON.`, { cause: error });
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new PictorError('InvalidEvent', `s3://${location.bucket}/${location.key}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    }
    return parsed.data;
  }
}
