import { z } from 'zod';
import { PictorError } from '../../core/errors.ts';
import { S3Location, type Reports } from './reports.ts';

/**
 * What a Distributed Map with a ResultWriter leaves in its state: where its
 * results went. https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html
 */
export const MapRunResults = z.object({
  MapRunArn: z.string(),
  ResultWriterDetails: z.object({ Bucket: z.string(), Key: z.string() }),
});
export type MapRunResults = z.infer<typeof MapRunResults>;

const ResultFile = z.object({ Key: z.string(), Size: z.number().optional() });
const Manifest = z.object({
  DestinationBucket: z.string(),
  MapRunArn: z.string(),
  ResultFiles: z.object({ SUCCEEDED: z.array(ResultFile).default([]), FAILED: z.array(ResultFile).default([]), PENDING: z.array(ResultFile).default([]) }),
});
const Entry = z.object({
  ExecutionArn: z.string().optional(),
  Input: z.string().optional(),
  Output: z.string().optional(),
  Status: z.string(),
  Error: z.string().optional(),
  Cause: z.string().optional(),
});

/** One item of a map run: its child execution's input and output (parsed), or why it failed. */
export interface MapItemResult {
  readonly status: 'SUCCEEDED' | 'FAILED' | 'PENDING';
  readonly input: unknown;
  readonly output?: unknown;
  readonly error?: string;
  readonly cause?: string;
}

/**
 * Every item's result of a map run, read from the files its ResultWriter wrote:
 * the manifest, then each SUCCEEDED, FAILED and PENDING file (a child that never
 * ran is PENDING, as when the run failed or was stopped early).
 */
export async function readMapRunResults(reports: Reports, results: MapRunResults): Promise<MapItemResult[]> {
  const manifestAt = S3Location.parse({ bucket: results.ResultWriterDetails.Bucket, key: results.ResultWriterDetails.Key });
  const manifest = await reports.get(manifestAt, Manifest);
  const items: MapItemResult[] = [];
  for (const status of ['SUCCEEDED', 'FAILED', 'PENDING'] as const) {
    for (const file of manifest.ResultFiles[status]) {
      const entries = await reports.get({ bucket: manifest.DestinationBucket, key: file.Key }, z.array(Entry));
      for (const entry of entries) {
        items.push({ status, input: json(entry.Input), output: json(entry.Output), error: entry.Error, cause: entry.Cause });
      }
    }
  }
  return items;
}

function json(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new PictorError('InvalidEvent', 'A map run result is not JSON.', { cause: error });
  }
}
