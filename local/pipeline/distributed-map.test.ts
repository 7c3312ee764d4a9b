import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { localS3Client, startLocalS3, type LocalS3 } from '../s3-server.ts';
import { LocalStepFunctions, type ExecutionRecord, type LocalFunction } from './step-functions.ts';

const BUCKET = 'dmap';
const fn = (name: string) => `arn:aws:lambda:us-east-1:000000000000:function:${name}`;

let s3: LocalS3;
let client: S3Client;
let dataDir: string;

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'pictor-dmap-'));
  s3 = await startLocalS3({ directory: dataDir, buckets: [BUCKET] });
  client = localS3Client(s3.endpoint);
});

after(async () => {
  client.destroy();
  await s3.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** A state machine whose first state is the Distributed Map `map`, with the given ItemProcessor states. */
function machine(map: Record<string, unknown>, processor: Record<string, unknown>, functions: Record<string, LocalFunction> = {}, rest: Record<string, unknown> = {}) {
  const definition = {
    StartAt: 'Each',
    States: {
      Each: {
        Type: 'Map',
        ItemProcessor: { ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' }, StartAt: Object.keys(processor)[0], States: processor },
        ...('Next' in map ? {} : { End: true }),
        ...map,
      },
      ...rest,
    },
  };
  const sfn = new LocalStepFunctions(new Map([['Machine', definition]]), new Map(Object.entries(functions).map(([name, f]) => [fn(name), f])), { s3Client: client });
  return { sfn, arn: sfn.stateMachineArns[0]! };
}

async function run(sfn: LocalStepFunctions, arn: string, input: unknown = {}): Promise<ExecutionRecord> {
  const execution = sfn.start(arn, input);
  await execution.done;
  return execution;
}

async function json(key: string): Promise<any> {
  const object = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return JSON.parse(await object.Body!.transformToString());
}

const echo = { Echo: { Type: 'Pass', End: true } };

describe('Distributed Map', () => {
  it('reads a JSON array with an ItemReader, up to MaxItems, shaping each item with ItemSelector and the context', async () => {
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'items.json', Body: JSON.stringify(['a', 'b', 'c', 'd']) }));
    const { sfn, arn } = machine(
      {
        ItemReader: { Resource: 'arn:aws:states:::s3:getObject', ReaderConfig: { InputType: 'JSON', MaxItems: 3 }, Parameters: { Bucket: BUCKET, 'Key.$': '$.key' } },
        ItemSelector: { 'value.$': '$$.Map.Item.Value', 'index.$': '$$.Map.Item.Index', 'job.$': '$.job', 'label.$': "States.Format('{}-{}', $.job, $$.Map.Item.Value)", 'started.$': '$$.Execution.Input.key' },
        ResultPath: '$.results',
      },
      echo,
    );
    const execution = await run(sfn, arn, { key: 'items.json', job: 'j1' });
    assert.equal(execution.status, 'SUCCEEDED', execution.cause);
    assert.deepEqual((execution.output as { results: unknown }).results, [
      { value: 'a', index: 0, job: 'j1', label: 'j1-a', started: 'items.json' },
      { value: 'b', index: 1, job: 'j1', label: 'j1-b', started: 'items.json' },
      { value: 'c', index: 2, job: 'j1', label: 'j1-c', started: 'items.json' },
    ]);
    const [mapRun] = execution.mapRuns;
    assert.equal(mapRun!.status, 'SUCCEEDED');
    assert.deepEqual(mapRun!.itemCounts, { total: 3, pending: 0, running: 0, succeeded: 3, failed: 0, aborted: 0 });
    const children = sfn.listMapRunExecutions(mapRun!.mapRunArn);
    assert.equal(children.length, 3);
    assert.ok(children.every((child) => child.status === 'SUCCEEDED' && child.historyEvents === 4));
    assert.deepEqual(sfn.list(arn), [execution], 'children are listed by their map run only');
  });

  it('reads JSON Lines and CSV with a header row', async () => {
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'items.jsonl', Body: '{"n":1}\n{"n":2}\n' }));
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'items.csv', Body: 'name,note\nx,"a, b"\ny,"say ""hi"""\n' }));
    const lines = machine({ ItemReader: { Resource: 'arn:aws:states:::s3:getObject', ReaderConfig: { InputType: 'JSONL' }, Parameters: { Bucket: BUCKET, Key: 'items.jsonl' } } }, echo);
    assert.deepEqual((await run(lines.sfn, lines.arn)).output, [{ n: 1 }, { n: 2 }]);
    const csv = machine({ ItemReader: { Resource: 'arn:aws:states:::s3:getObject', ReaderConfig: { InputType: 'CSV', CSVHeaderLocation: 'FIRST_ROW' }, Parameters: { Bucket: BUCKET, Key: 'items.csv' } } }, echo);
    assert.deepEqual((await run(csv.sfn, csv.arn)).output, [
      { name: 'x', note: 'a, b' },
      { name: 'y', note: 'say "hi"' },
    ]);
  });

  it('lists objects with listObjectsV2, each item {Etag, Key, LastModified, Size, StorageClass}', async () => {
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'listed/one', Body: '1' }));
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'listed/two', Body: '22' }));
    const { sfn, arn } = machine({ ItemReader: { Resource: 'arn:aws:states:::s3:listObjectsV2', Parameters: { Bucket: BUCKET, Prefix: 'listed/' } } }, echo);
    const items = (await run(sfn, arn)).output as { Etag: string; Key: string; LastModified: number; Size: number; StorageClass: string }[];
    assert.deepEqual(
      items.map(({ Key, Size, StorageClass }) => ({ Key, Size, StorageClass })),
      [
        { Key: 'listed/one', Size: 1, StorageClass: 'STANDARD' },
        { Key: 'listed/two', Size: 2, StorageClass: 'STANDARD' },
      ],
    );
    assert.ok(items.every((item) => /^"[0-9a-f]{32}"$/.test(item.Etag) && Math.abs(item.LastModified - Date.now() / 1000) < 60));
  });

  it('batches items with ItemBatcher: {Items, BatchInput} per child, MaxItemsPerBatch at most', async () => {
    const inputs: unknown[] = [];
    const { sfn, arn } = machine(
      { ItemsPath: '$.items', ItemBatcher: { MaxItemsPerBatch: 3, BatchInput: { 'job.$': '$.job' } } },
      { Record: { Type: 'Task', Resource: fn('record'), End: true } },
      { record: async (input) => (inputs.push(input), (input as { Items: unknown[] }).Items.length) },
    );
    const execution = await run(sfn, arn, { items: [1, 2, 3, 4, 5, 6, 7], job: 'b' });
    assert.deepEqual(execution.output, [3, 3, 1]);
    assert.deepEqual(
      inputs.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
      [
        { Items: [1, 2, 3], BatchInput: { job: 'b' } },
        { Items: [4, 5, 6], BatchInput: { job: 'b' } },
        { Items: [7], BatchInput: { job: 'b' } },
      ],
    );
  });

  it('runs no more children at once than MaxConcurrency', async () => {
    let running = 0;
    let most = 0;
    const { sfn, arn } = machine({ MaxConcurrency: 3 }, { Work: { Type: 'Task', Resource: fn('work'), End: true } }, {
      work: async () => {
        most = Math.max(most, ++running);
        await new Promise((resolve) => setTimeout(resolve, 10));
        running--;
        return null;
      },
    });
    assert.equal((await run(sfn, arn, Array.from({ length: 12 }, (_, i) => i))).status, 'SUCCEEDED');
    assert.equal(most, 3);
  });

  it('writes results as ResultWriter documents them, tolerating failures up to ToleratedFailureCount', async () => {
    const { sfn, arn } = machine(
      {
        ItemsPath: '$.items',
        ToleratedFailureCount: 1,
        ResultWriter: { Resource: 'arn:aws:states:::s3:putObject', Parameters: { Bucket: BUCKET, Prefix: 'runs' } },
        ResultPath: '$.written',
      },
      { Work: { Type: 'Task', Resource: fn('work'), End: true } },
      { work: async (n) => (n === 2 ? Promise.reject(Object.assign(new Error('two is bad'), { name: 'BadItem' })) : { doubled: (n as number) * 2 }) },
    );
    const execution = await run(sfn, arn, { items: [1, 2, 3] });
    assert.equal(execution.status, 'SUCCEEDED', execution.cause);
    const [mapRun] = execution.mapRuns;
    const mapRunId = mapRun!.mapRunArn.split(':').pop()!;
    const written = (execution.output as { written: { MapRunArn: string; ResultWriterDetails: { Bucket: string; Key: string } } }).written;
    assert.deepEqual(written, { MapRunArn: mapRun!.mapRunArn, ResultWriterDetails: { Bucket: BUCKET, Key: `runs/${mapRunId}/manifest.json` } });

    const manifest = await json(`runs/${mapRunId}/manifest.json`);
    assert.equal(manifest.DestinationBucket, BUCKET);
    assert.equal(manifest.MapRunArn, mapRun!.mapRunArn);
    assert.deepEqual(manifest.ResultFiles.PENDING, []);
    assert.deepEqual(manifest.ResultFiles.SUCCEEDED.map((f: { Key: string }) => f.Key), [`runs/${mapRunId}/SUCCEEDED_0.json`]);
    assert.deepEqual(manifest.ResultFiles.FAILED.map((f: { Key: string }) => f.Key), [`runs/${mapRunId}/FAILED_0.json`]);

    const succeeded = await json(`runs/${mapRunId}/SUCCEEDED_0.json`);
    assert.equal(manifest.ResultFiles.SUCCEEDED[0].Size, Buffer.byteLength(JSON.stringify(succeeded)));
    assert.deepEqual(succeeded.map((r: { Input: string; Output: string; Status: string }) => [JSON.parse(r.Input), JSON.parse(r.Output), r.Status]).sort(), [
      [1, { doubled: 2 }, 'SUCCEEDED'],
      [3, { doubled: 6 }, 'SUCCEEDED'],
    ]);
    for (const entry of succeeded) {
      assert.match(entry.ExecutionArn, /:execution:.+\/Each:/);
      assert.ok(entry.Name && entry.StartDate && entry.StopDate && entry.StateMachineArn === arn);
    }
    const [failed] = await json(`runs/${mapRunId}/FAILED_0.json`);
    assert.deepEqual([JSON.parse(failed.Input), failed.Status, failed.Error, failed.Cause], [2, 'FAILED', 'BadItem', 'two is bad']);
    assert.deepEqual(mapRun!.itemCounts, { total: 3, pending: 0, running: 0, succeeded: 2, failed: 1, aborted: 0 });
  });

  it('fails with States.ExceedToleratedFailureThreshold past the tolerated percentage, which a Catch can route', async () => {
    const { sfn, arn } = machine(
      { MaxConcurrency: 1, ToleratedFailurePercentage: 20, ItemsPath: '$.items', Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'Failed' }], Next: 'Done' },
      { Work: { Type: 'Task', Resource: fn('work'), End: true } },
      { work: async (n) => ((n as number) % 2 === 0 ? Promise.reject(Object.assign(new Error('even'), { name: 'Even' })) : n) },
      { Done: { Type: 'Succeed' }, Failed: { Type: 'Pass', End: true } },
    );
    const execution = await run(sfn, arn, { items: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] });
    assert.equal(execution.status, 'SUCCEEDED');
    assert.equal((execution.output as { error: { Error: string } }).error.Error, 'States.ExceedToleratedFailureThreshold');
    const [mapRun] = execution.mapRuns;
    assert.equal(mapRun!.status, 'FAILED');
    // 3 of 10 failed is over 20 %: the run stops there, the rest never start.
    assert.deepEqual([mapRun!.itemCounts.failed, mapRun!.itemCounts.succeeded, mapRun!.itemCounts.pending], [3, 3, 4]);
  });

  it('fails on the first failed child when no threshold is set', async () => {
    const { sfn, arn } = machine({}, { Work: { Type: 'Task', Resource: fn('work'), End: true } }, { work: async () => Promise.reject(Object.assign(new Error('no'), { name: 'No' })) });
    const execution = await run(sfn, arn, [1]);
    assert.equal(execution.error, 'States.ExceedToleratedFailureThreshold');
  });

  it('gives each child its own history: 2,000 items of a few states each stay far from the parent\'s 25,000', async () => {
    const { sfn, arn } = machine(
      { ItemSelector: { 'n.$': '$$.Map.Item.Value' } },
      { One: { Type: 'Pass', Next: 'Two' }, Two: { Type: 'Pass', Next: 'Three' }, Three: { Type: 'Pass', Result: 1, End: true } },
    );
    const execution = await run(sfn, arn, Array.from({ length: 2_000 }, (_, i) => i));
    assert.equal(execution.status, 'SUCCEEDED', execution.cause);
    assert.equal((execution.output as unknown[]).length, 2_000);
    // ExecutionStarted, MapStateEntered, MapRunStarted, MapRunSucceeded, MapStateExited, ExecutionSucceeded
    assert.equal(execution.historyEvents, 6);
    const children = sfn.listMapRunExecutions(execution.mapRuns[0]!.mapRunArn);
    assert.equal(children.length, 2_000);
    assert.ok(children.every((child) => child.historyEvents === 8));
  });

  it('holds the collected result to 256 KiB without a ResultWriter', async () => {
    const { sfn, arn } = machine({}, { Big: { Type: 'Task', Resource: fn('big'), End: true } }, { big: async () => 'x'.repeat(100_000) });
    const execution = await run(sfn, arn, [1, 2, 3]);
    assert.equal(execution.error, 'States.DataLimitExceeded');
  });
});
