import { PictorError } from './errors.ts';

/**
 * S3 event sequencers order the events of one key. They are hex strings of varying
 * length: right-pad the shorter with zeros, then compare lexicographically.
 * https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html
 */
export const SEQUENCER_LENGTH = 32;
/** 1 to 32 hex digits, as S3 writes them. */
export const SEQUENCER_PATTERN = /^[0-9A-Fa-f]{1,32}$/;

export function isSequencer(value: string): boolean {
  return SEQUENCER_PATTERN.test(value);
}

/** A fixed-width form whose string order is event order: what the version map stores. */
export function normalizeSequencer(sequencer: string): string {
  if (!SEQUENCER_PATTERN.test(sequencer)) throw new PictorError('InvalidEvent', `Expected an S3 sequencer (1 to 32 hex digits) but received '${sequencer}'.`);
  return sequencer.toUpperCase().padEnd(SEQUENCER_LENGTH, '0');
}

export function compareSequencers(a: string, b: string): number {
  const x = normalizeSequencer(a);
  const y = normalizeSequencer(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
