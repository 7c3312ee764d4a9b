import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { PAYLOAD_LIMIT_BYTES, DataLimitExceededError, dataLimitCause, payloadBytes } from './limits.ts';

/**
 * A Distributed Map state run as AWS runs one: items from ItemsPath or an ItemReader,
 * each shaped by ItemSelector, grouped by ItemBatcher, processed as child executions
 * (each with its own history and limits) at most MaxConcurrency at a time, failures
 * counted against the tolerated threshold, results collected or written by ResultWriter.
 * https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html
 */

/** DescribeMapRun's view of a run. https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeMapRun.html */
export interface MapRunRecord {
  readonly mapRunArn: string;
  readonly executionArn: string;
  readonly stateName: string;
  readonly startDate: Date;
  readonly maxConcurrency: number;
  readonly toleratedFailureCount?: number;
  readonly toleratedFailurePercentage?: number;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  stopDate?: Date;
  readonly itemCounts: { total: number; pending: number; running: number; succeeded: number; failed: number; aborted: number };
  resultWriterDetails?: { Bucket: string; Key: string };
}

/** A child execution, as the map run needs it. */
export interface ChildExecution {
  readonly executionArn: string;
  readonly name: string;
  readonly input: unknown;
  readonly startDate: Date;
  readonly stateMachineArn: string;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  stopDate?: Date;
  output?: unknown;
  error?: string;
  cause?: string;
  readonly done: Promise<void>;
  abort(): void;
}

export interface DistributedMapRun {
  readonly stateName: string;
  /** The Map state as deployed (its ItemProcessor already prepared for the interpreter). */
  readonly state: any;
  /** The state's effective input: after InputPath. */
  readonly input: unknown;
  /** The context object at the state: $$.Execution, $$.StateMachine, $$.State. */
  readonly context: Record<string, any>;
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly s3?: S3Client;
  /** Evaluates a payload template (Parameters-style, `.$` keys, intrinsics) as the interpreter does. */
  evaluate(template: unknown, input: unknown, context: Record<string, any>): Promise<unknown>;
  /** Starts one child execution of the ItemProcessor. */
  startChild(input: unknown, executionArn: string, name: string): ChildExecution;
  /** Called once the map run exists, before any child starts. */
  onMapRun(mapRun: MapRunRecord): void;
}

/** A named Step Functions error that Retry and Catch may match. */
export class StatesError extends Error {
  constructor(
    override readonly name: string,
    message: string,
  ) {
    super(message);
  }
}

/** AWS runs up to 10,000 child executions of a map run in parallel when MaxConcurrency is 0 or absent. */
const UNBOUNDED_CONCURRENCY = 10_000;

export async function runDistributedMap(run: DistributedMapRun): Promise<unknown> {
  const { state, input, context } = run;
  const value = async (field: string): Promise<unknown> => {
    if (state[field] !== undefined) return state[field];
    const path = state[`${field}Path`];
    return path === undefined ? undefined : ((await run.evaluate({ 'v.$': path }, input, context)) as { v: unknown }).v;
  };
  const items = state.ItemReader ? await readItems(run) : await itemsAt(run);
  const selector = state.ItemSelector ?? state.Parameters;
  const selected = selector
    ? await Promise.all(items.map((item, index) => run.evaluate(selector, input, { ...context, Map: { Item: { Index: index, Value: item } } })))
    : items;
  const children = state.ItemBatcher ? await batch(run, selected) : selected.map((item) => ({ input: item, items: 1 }));

  const maxConcurrency = Number((await value('MaxConcurrency')) ?? 0);
  const toleratedFailureCount = (await valueOf(state, 'ToleratedFailureCount', value)) as number | undefined;
  const toleratedFailurePercentage = (await valueOf(state, 'ToleratedFailurePercentage', value)) as number | undefined;
  const label = state.Label ?? run.stateName;
  const mapRunId = crypto.randomUUID();
  const mapRun: MapRunRecord = {
    mapRunArn: `${run.stateMachineArn.replace(':stateMachine:', ':mapRun:')}/${label}:${mapRunId}`,
    executionArn: run.executionArn,
    stateName: run.stateName,
    startDate: new Date(),
    maxConcurrency,
    toleratedFailureCount,
    toleratedFailurePercentage,
    status: 'RUNNING',
    itemCounts: { total: selected.length, pending: selected.length, running: 0, succeeded: 0, failed: 0, aborted: 0 },
  };
  run.onMapRun(mapRun);

  const total = selected.length;
  // "If you don't specify either, the Map Run fails as soon as one item fails": a threshold of 0.
  // https://docs.aws.amazon.com/step-functions/latest/dg/maprun-fail-threshold.html
  const exceeded = (failed: number): boolean =>
    (toleratedFailureCount === undefined && toleratedFailurePercentage === undefined && failed > 0) ||
    (toleratedFailureCount !== undefined && failed > toleratedFailureCount) ||
    (toleratedFailurePercentage !== undefined && total > 0 && (failed / total) * 100 > toleratedFailurePercentage);

  const started: (ChildExecution | undefined)[] = new Array(children.length);
  let next = 0;
  let failedItems = 0;
  let thresholdExceeded = false;
  const worker = async (): Promise<void> => {
    while (!thresholdExceeded && next < children.length) {
      const index = next++;
      const child = children[index]!;
      const name = crypto.randomUUID();
      // Counted as each child starts and ends, so DescribeMapRun reports the run's progress while it runs,
      // as the console's Map Run page shows it. https://docs.aws.amazon.com/step-functions/latest/apireference/API_MapRunItemCounts.html
      // https://docs.aws.amazon.com/step-functions/latest/dg/concepts-examine-map-run.html
      mapRun.itemCounts.pending -= child.items;
      mapRun.itemCounts.running += child.items;
      const execution = run.startChild(child.input, `${run.stateMachineArn.replace(':stateMachine:', ':execution:')}/${label}:${name}`, name);
      started[index] = execution;
      await execution.done;
      mapRun.itemCounts.running -= child.items;
      if (execution.status === 'SUCCEEDED') mapRun.itemCounts.succeeded += child.items;
      else if (execution.status === 'ABORTED') mapRun.itemCounts.aborted += child.items;
      else {
        mapRun.itemCounts.failed += child.items;
        failedItems += child.items;
        if (exceeded(failedItems) && !thresholdExceeded) {
          thresholdExceeded = true;
          // The run fails at once: children still running are stopped.
          for (const other of started) if (other && other.status === 'RUNNING') other.abort();
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(children.length, maxConcurrency || UNBOUNDED_CONCURRENCY) }, worker));
  mapRun.status = thresholdExceeded ? 'FAILED' : 'SUCCEEDED';
  mapRun.stopDate = new Date();

  const entries = children.map((child, index) => resultEntry(started[index], child.input, run.stateMachineArn));
  let result: unknown;
  if (state.ResultWriter?.Resource) {
    result = await writeResults(run, entries, mapRun, mapRunId);
  } else {
    result = transform(entries, state.ResultWriter?.WriterConfig?.Transformation ?? 'COMPACT');
  }
  if (thresholdExceeded) {
    throw new StatesError('States.ExceedToleratedFailureThreshold', 'The specified tolerated failure threshold was exceeded');
  }
  // The collected result is a task result like any other: 256 KiB at most.
  if (payloadBytes(result) > PAYLOAD_LIMIT_BYTES) throw new DataLimitExceededError(dataLimitCause(run.stateName, 'result'));
  return result;
}

async function valueOf(state: any, field: string, value: (field: string) => Promise<unknown>): Promise<number | undefined> {
  const v = await value(field);
  return v === undefined ? undefined : Number(v);
}

async function itemsAt(run: DistributedMapRun): Promise<unknown[]> {
  const path = run.state.ItemsPath ?? '$';
  const items = ((await run.evaluate({ 'v.$': path }, run.input, run.context)) as { v: unknown }).v;
  if (!Array.isArray(items)) throw new StatesError('States.Runtime', `The value at ItemsPath '${path}' is not an array.`);
  return items;
}

/** ItemReader: https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itemreader.html */
async function readItems(run: DistributedMapRun): Promise<unknown[]> {
  const reader = run.state.ItemReader;
  if (!run.s3) throw new Error(`Map state '${run.stateName}' has an ItemReader: give LocalStepFunctions an S3 client (options.s3Client).`);
  const params = (await run.evaluate(reader.Parameters ?? {}, run.input, run.context)) as Record<string, any>;
  const config = reader.ReaderConfig ?? {};
  const maxItems = config.MaxItems ?? (config.MaxItemsPath ? ((await run.evaluate({ 'v.$': config.MaxItemsPath }, run.input, run.context)) as { v: number }).v : undefined);
  const resource = String(reader.Resource).replace(/^arn:[^:]+:/, 'arn:aws:');
  let items: unknown[];
  try {
    if (resource === 'arn:aws:states:::s3:listObjectsV2') {
      items = [];
      let token: string | undefined;
      do {
        const page = await run.s3.send(new ListObjectsV2Command({ Bucket: params.Bucket, Prefix: params.Prefix, ContinuationToken: token }));
        for (const object of page.Contents ?? []) {
          // The shape the docs show: LastModified in epoch seconds.
          items.push({ Etag: object.ETag, Key: object.Key, LastModified: Math.floor((object.LastModified?.getTime() ?? 0) / 1000), Size: object.Size, StorageClass: object.StorageClass ?? 'STANDARD' });
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    } else if (resource === 'arn:aws:states:::s3:getObject') {
      const object = await run.s3.send(new GetObjectCommand({ Bucket: params.Bucket, Key: params.Key, VersionId: params.VersionId }));
      const text = (await object.Body?.transformToString('utf-8')) ?? '';
      items = parseItems(text, config);
    } else {
      throw new Error(`Map state '${run.stateName}' reads items with ${reader.Resource}, which the twin does not implement.`);
    }
  } catch (error) {
    if (error instanceof StatesError || (error as Error).message?.includes('twin does not implement')) throw error;
    throw new StatesError('States.ItemReaderFailed', `${(error as Error).name}: ${(error as Error).message}`);
  }
  return maxItems === undefined || maxItems === 0 ? items : items.slice(0, maxItems);
}

function parseItems(text: string, config: any): unknown[] {
  switch (config.InputType ?? 'JSON') {
    case 'JSON': {
      const parsed = JSON.parse(text);
      if (!Array.isArray(parsed)) throw new StatesError('States.ItemReaderFailed', 'The JSON file does not hold an array.');
      return parsed;
    }
    case 'JSONL':
      return text.split(/\r?\n/).filter((line) => line.trim() !== '').map((line) => JSON.parse(line));
    case 'CSV': {
      const rows = parseCsv(text, config.CSVDelimiter === 'TAB' ? '\t' : ',');
      const headers: string[] = config.CSVHeaderLocation === 'GIVEN' ? config.CSVHeaders : (rows.shift() ?? []);
      return rows.map((row) => Object.fromEntries(headers.map((header, i) => [header, row[i] ?? ''])));
    }
    default:
      throw new Error(`ReaderConfig InputType ${config.InputType} is not implemented by the twin.`);
  }
}

/** RFC 4180 fields: quoted fields may hold the delimiter, newlines and doubled quotes. Values stay strings. */
function parseCsv(text: string, delimiter: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === delimiter) row.push(field), (field = '');
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field), rows.push(row), (row = []), (field = '');
    } else field += c;
  }
  if (field !== '' || row.length > 0) row.push(field), rows.push(row);
  return rows;
}

/** ItemBatcher: https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itembatcher.html */
async function batch(run: DistributedMapRun, items: unknown[]): Promise<{ input: unknown; items: number }[]> {
  const batcher = run.state.ItemBatcher;
  const setting = async (field: string): Promise<number | undefined> => {
    if (batcher[field] !== undefined) return batcher[field];
    const path = batcher[`${field}Path`];
    return path === undefined ? undefined : ((await run.evaluate({ 'v.$': path }, run.input, run.context)) as { v: number }).v;
  };
  const maxItems = (await setting('MaxItemsPerBatch')) ?? Infinity;
  // At most 256 KiB, the payload quota, whatever is asked.
  const maxBytes = Math.min((await setting('MaxInputBytesPerBatch')) ?? PAYLOAD_LIMIT_BYTES, PAYLOAD_LIMIT_BYTES);
  const batchInput = batcher.BatchInput === undefined ? undefined : await run.evaluate(batcher.BatchInput, run.input, run.context);
  const shape = (members: unknown[]) => (batchInput === undefined ? { Items: members } : { Items: members, BatchInput: batchInput });
  const batches: { input: unknown; items: number }[] = [];
  let current: unknown[] = [];
  for (const item of items) {
    if (current.length > 0 && (current.length >= maxItems || payloadBytes(shape([...current, item])) > maxBytes)) {
      batches.push({ input: shape(current), items: current.length });
      current = [];
    }
    current.push(item);
  }
  if (current.length > 0) batches.push({ input: shape(current), items: current.length });
  return batches;
}

type ResultEntry = Record<string, unknown> & { Status: string };

function resultEntry(child: ChildExecution | undefined, input: unknown, stateMachineArn: string): ResultEntry {
  if (!child) return { Input: JSON.stringify(input), InputDetails: { Included: true }, Status: 'PENDING' };
  const entry: ResultEntry = {
    ExecutionArn: child.executionArn,
    Input: JSON.stringify(child.input),
    InputDetails: { Included: true },
    Name: child.name,
    RedriveCount: 0,
    RedriveStatus: 'NOT_REDRIVABLE',
    StartDate: child.startDate.toISOString(),
    StateMachineArn: stateMachineArn,
    Status: child.status,
    StopDate: (child.stopDate ?? new Date()).toISOString(),
  };
  if (child.status === 'SUCCEEDED') Object.assign(entry, { Output: JSON.stringify(child.output), OutputDetails: { Included: true } });
  else Object.assign(entry, { Error: child.error, Cause: child.cause });
  return entry;
}

/**
 * WriterConfig's Transformation: NONE keeps each child's metadata, COMPACT (the default
 * without a ResultWriter) gives the outputs alone, FLATTEN flattens outputs that are arrays;
 * a failed child's entry is returned as NONE gives it.
 * https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html
 */
function transform(entries: ResultEntry[], transformation: string): unknown[] {
  if (transformation === 'NONE') return entries;
  const outputs = entries.map((e) => (e.Status === 'SUCCEEDED' ? JSON.parse(e.Output as string) : e));
  return transformation === 'FLATTEN' ? outputs.flatMap((o) => (Array.isArray(o) ? o : [o])) : outputs;
}

/**
 * ResultWriter to S3: `<Prefix>/<map run id>/` holds SUCCEEDED_0.json, FAILED_0.json and
 * PENDING_0.json (each only when it has entries) and manifest.json; the state's result
 * names the manifest. https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html
 */
async function writeResults(run: DistributedMapRun, entries: ResultEntry[], mapRun: MapRunRecord, mapRunId: string): Promise<unknown> {
  const writer = run.state.ResultWriter;
  const resource = String(writer.Resource).replace(/^arn:[^:]+:/, 'arn:aws:');
  if (resource !== 'arn:aws:states:::s3:putObject') throw new Error(`Map state '${run.stateName}' writes results with ${writer.Resource}, which the twin does not implement.`);
  const config = writer.WriterConfig ?? {};
  if ((config.OutputType ?? 'JSON') !== 'JSON') throw new Error(`WriterConfig OutputType ${config.OutputType} is not implemented by the twin.`);
  if (!run.s3) throw new Error(`Map state '${run.stateName}' has a ResultWriter: give LocalStepFunctions an S3 client (options.s3Client).`);
  const params = (await run.evaluate(writer.Parameters ?? {}, run.input, run.context)) as { Bucket: string; Prefix?: string };
  const base = [params.Prefix?.replace(/\/+$/, ''), mapRunId].filter(Boolean).join('/');
  const groups: Record<'FAILED' | 'PENDING' | 'SUCCEEDED', ResultEntry[]> = { FAILED: [], PENDING: [], SUCCEEDED: [] };
  for (const entry of entries) (entry.Status === 'SUCCEEDED' ? groups.SUCCEEDED : entry.Status === 'PENDING' ? groups.PENDING : groups.FAILED).push(entry);
  const resultFiles: Record<string, { Key: string; Size: number }[]> = { FAILED: [], PENDING: [], SUCCEEDED: [] };
  try {
    for (const status of ['FAILED', 'PENDING', 'SUCCEEDED'] as const) {
      if (groups[status].length === 0) continue;
      const body = JSON.stringify(status === 'SUCCEEDED' ? transform(groups[status], config.Transformation ?? 'NONE') : groups[status]);
      const key = `${base}/${status}_0.json`;
      await run.s3.send(new PutObjectCommand({ Bucket: params.Bucket, Key: key, Body: body, ContentType: 'application/json' }));
      resultFiles[status]!.push({ Key: key, Size: Buffer.byteLength(body) });
    }
    const manifest = { DestinationBucket: params.Bucket, MapRunArn: mapRun.mapRunArn, ResultFiles: resultFiles };
    await run.s3.send(new PutObjectCommand({ Bucket: params.Bucket, Key: `${base}/manifest.json`, Body: JSON.stringify(manifest), ContentType: 'application/json' }));
  } catch (error) {
    throw new StatesError('States.ResultWriterFailed', `${(error as Error).name}: ${(error as Error).message}`);
  }
  mapRun.resultWriterDetails = { Bucket: params.Bucket, Key: `${base}/manifest.json` };
  return { MapRunArn: mapRun.mapRunArn, ResultWriterDetails: mapRun.resultWriterDetails };
}

