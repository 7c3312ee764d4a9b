import { z } from 'zod';
import { PictorError } from '../../core/errors.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import {
  Cursor,
  type Failure,
  ItemResult,
  MAX_SKIP_REASONS,
  Part,
  REPORT_CAUSE_CHARS,
  RerenderJob,
  rerenderKeys,
  Totals,
  truncate,
} from '../shared/rerender-state.ts';

/**
 * What a Distributed Map with a ResultWriter leaves in the state: where its
 * manifest is. https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html
 */
export const MapRunResult = z.object({ MapRunArn: z.string(), ResultWriterDetails: z.object({ Bucket: z.string(), Key: z.string() }) });

const Image = z.object({ tenant: z.string(), imageId: z.string() });

export const TallyInput = z.object({
  job: RerenderJob,
  totals: Totals,
  part: Part,
  page: z.object({ items: z.array(Image), cursor: Cursor.optional(), run: MapRunResult }),
});

/** The map run's manifest.json: its result files by the child executions' status. */
const ResultFile = z.object({ Key: z.string(), Size: z.number().optional() });
export const MapRunManifest = z.object({
  DestinationBucket: z.string(),
  MapRunArn: z.string(),
  ResultFiles: z.object({ SUCCEEDED: z.array(ResultFile).default([]), FAILED: z.array(ResultFile).default([]), PENDING: z.array(ResultFile).default([]) }),
});

/**
 * One child execution in a result file (OutputType JSON: an array of these).
 * `Input` and `Output` are JSON strings; a FAILED one has Error and Cause instead of Output.
 */
export const ResultEntry = z.object({ Input: z.string().optional(), Output: z.string().optional(), Error: z.string().optional(), Cause: z.string().optional() }).passthrough();
export type ResultEntry = z.infer<typeof ResultEntry>;

export type TallyNext = 'list' | 'continue' | 'complete';

export interface Tally {
  readonly job: RerenderJob;
  readonly totals: Totals;
  readonly part: Part;
  readonly cursor?: Cursor;
  /** More failed than the job tolerates: stop here. */
  readonly exceeded: boolean;
  /** List another page here, continue as a new execution, or complete the job. */
  readonly next: TallyNext;
  /** With `next: 'continue'`: the next part's number and its execution's name, the same on every retry. */
  readonly continuation?: { readonly part: number; readonly name: string };
}

export interface TallyDeps {
  /** The reports bucket: the map runs' results are read from it and the page's failures written to it. */
  readonly reports: ObjectStore;
}

/**
 * Adds a page's results to the job's counts, exactly: it reads the map run's
 * manifest and result files, counts every listed original once as rendered,
 * skipped or failed (one the results do not name as failed), writes the page's
 * failures to `rerenders/<jobId>/failures/<page>.json`, and decides what comes
 * next: another page, a new execution once this one has its share of pages, or
 * the end (the last page, or failures past the job's threshold). Safe to repeat:
 * the same results make the same counts and the same failures object.
 * @throws {PictorError} OriginUnavailable (retried), InternalError
 */
export async function tallyRerender(input: z.infer<typeof TallyInput>, deps: TallyDeps): Promise<Tally> {
  const { job, page } = input;
  const outcomes = new Map<string, ItemResult | Failure>();
  const keyOf = (image: { tenant: string; imageId: string }) => `${image.tenant}/${image.imageId}`;
  const listed = new Set(page.items.map(keyOf));
  const record = (image: { tenant: string; imageId: string } | undefined, outcome: ItemResult | Failure) => {
    if (!image || !listed.has(keyOf(image)) || outcomes.has(keyOf(image))) return;
    outcomes.set(keyOf(image), outcome);
  };
  for (const [status, entry] of await readResults(page.run, deps.reports)) {
    const image = imageOf(entry);
    if (status === 'SUCCEEDED') {
      const output = ItemResult.safeParse(parseJson(entry.Output));
      if (output.success) record(output.data, output.data);
      else if (image) record(image, { ...image, error: 'InvalidResult', cause: `The child execution's output is not a result: ${truncate(entry.Output ?? '', 200)}` });
    } else if (image) {
      const error = status === 'FAILED' ? (entry.Error ?? 'States.Runtime') : 'ResultPending';
      const cause = status === 'FAILED' ? (entry.Cause ?? '') : 'The map run ended before this original was processed.';
      record(image, { ...image, error, cause });
    }
  }

  const totals: Totals = { ...input.totals, skippedBecause: { ...input.totals.skippedBecause }, pages: input.totals.pages + 1 };
  const failures: Failure[] = [];
  for (const image of page.items) {
    const outcome = outcomes.get(keyOf(image)) ?? { ...image, error: 'ResultMissing', cause: "The map run's results do not name this original." };
    if ('status' in outcome && outcome.status === 'rendered') totals.rendered++;
    else if ('status' in outcome && outcome.status === 'skipped') {
      totals.skipped++;
      const known = Object.keys(totals.skippedBecause);
      const reason = known.includes(outcome.reason) || known.length < MAX_SKIP_REASONS - 1 ? truncate(outcome.reason, 200) : 'other';
      totals.skippedBecause[reason] = (totals.skippedBecause[reason] ?? 0) + 1;
    } else {
      totals.failed++;
      const failure = outcome as Failure | Extract<ItemResult, { status: 'failed' }>;
      failures.push({ tenant: image.tenant, imageId: image.imageId, error: failure.error, cause: truncate(causeText(failure.cause ?? ''), REPORT_CAUSE_CHARS) });
    }
  }
  // Written before the counts move on: a retry writes the same object again.
  if (failures.length > 0) await deps.reports.put(rerenderKeys.failures(job.jobId, input.totals.pages), JSON.stringify(failures), { contentType: 'application/json' });

  const processed = totals.rendered + totals.skipped + totals.failed;
  const exceeded = processed > 0 && (totals.failed / processed) * 100 > job.toleratedFailurePercentage;
  const part: Part = { number: input.part.number, pages: input.part.pages + 1 };
  const more = page.cursor !== undefined;
  const next: TallyNext = exceeded || !more ? 'complete' : part.pages >= job.pagesPerExecution ? 'continue' : 'list';
  return {
    job,
    totals,
    part,
    ...(page.cursor ? { cursor: page.cursor } : {}),
    exceeded,
    next,
    ...(next === 'continue' ? { continuation: { part: part.number + 1, name: `${job.jobId}-part-${part.number + 1}` } } : {}),
  };
}

/** Every entry of the map run's result files, with the status of the file it came from. */
async function readResults(run: z.infer<typeof MapRunResult>, reports: ObjectStore): Promise<[keyof z.infer<typeof MapRunManifest>['ResultFiles'], ResultEntry][]> {
  if (run.ResultWriterDetails.Bucket !== reports.bucket) {
    throw new PictorError('InternalError', `The map run wrote its results to ${run.ResultWriterDetails.Bucket}, not the reports bucket ${reports.bucket}.`);
  }
  const manifest = MapRunManifest.parse(await readJson(reports, run.ResultWriterDetails.Key));
  const entries: [keyof typeof manifest.ResultFiles, ResultEntry][] = [];
  for (const status of ['SUCCEEDED', 'FAILED', 'PENDING'] as const) {
    for (const file of manifest.ResultFiles[status]) {
      for (const entry of z.array(ResultEntry).parse(await readJson(reports, file.Key))) entries.push([status, entry]);
    }
  }
  return entries;
}

async function readJson(store: ObjectStore, key: string): Promise<unknown> {
  const object = await store.get(key);
  if (!object) throw new PictorError('InternalError', `The map run's ${key} is missing from ${store.bucket}.`);
  try {
    return JSON.parse(object.body.toString('utf8'));
  } catch (error) {
    throw new PictorError('InternalError', `The map run's ${key} is not JSON.`, { cause: error });
  }
}

/** The original a child execution was given: its input is `{job, image}`. */
function imageOf(entry: ResultEntry): { tenant: string; imageId: string } | undefined {
  const parsed = z.object({ image: Image }).safeParse(parseJson(entry.Input));
  return parsed.success ? { tenant: parsed.data.image.tenant, imageId: parsed.data.image.imageId } : undefined;
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * A failure's cause in words: Step Functions gives a Lambda failure's Cause as
 * JSON (errorType, errorMessage, trace), of which the message is what a person reads.
 */
export function causeText(cause: string): string {
  const parsed = parseJson(cause) as { errorMessage?: unknown } | undefined;
  return parsed && typeof parsed === 'object' && typeof parsed.errorMessage === 'string' ? parsed.errorMessage : cause;
}
