// Every benchmark once at a tiny size, so none can rot: the shape of its result and
// sane values, never its timings (those belong to `npm run bench`).
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { formatAccessLog } from './support/access-log.ts';
import { formatResult, writeResult, type BenchResult } from './support/report.ts';
import { syntheticWorkload } from './support/workload.ts';
import { runHitRatio } from './hit-ratio.ts';
import { runViewerFunction } from './viewer-function.ts';
import { runVariantSet } from './variant-set.ts';
import { runMissPath } from './miss-path.ts';
import { runCoalescing } from './coalescing.ts';
import { runTakedownFanout } from './takedown-fanout.ts';
import { runPipelineOverhead } from './pipeline-overhead.ts';
import { runEdgeHits } from './edge-hits.ts';
import { runFailover } from './failover.ts';

const SMALL_PHOTO = { width: 640, height: 480 };
let scratch: string;

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'pictor-bench-test-'));
});

after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** What every benchmark owes: tables with full rows, goals with a verdict, and a result that prints and writes. */
async function assertShape(result: BenchResult, name: string, goals: number): Promise<void> {
  assert.equal(result.name, name);
  assert.ok(result.tables.length > 0);
  for (const table of result.tables) {
    assert.ok(table.rows.length > 0, table.title);
    for (const row of table.rows) assert.equal(row.length, table.columns.length, `${table.title}: ${row.join(' | ')}`);
  }
  assert.equal(result.goals.length, goals);
  for (const g of result.goals) assert.ok(typeof g.met === 'boolean' || (g.met === null && g.note), `${g.goal}: ${g.measured}`);
  assert.match(formatResult(result), new RegExp(`## ${name}`));
  const path = await writeResult(result, { command: 'test', startedAt: new Date(), durationMs: 1 }, scratch);
  assert.ok(path.endsWith(`${name}.json`));
}

describe('benchmarks at a tiny size', () => {
  it('hit-ratio: both keys over a cold and a warm pass; the normalized key never misses more than the naive one', async () => {
    const result = await runHitRatio({ requests: 3000, images: 300, cacheBytes: [2 ** 30, 2 ** 20] });
    await assertShape(result, 'hit-ratio', 2);
    const passes = result.figures.passes as { requests: number; transforms: number; policies: Record<string, { unique: number; caches: { hits: number; misses: number }[] }> }[];
    assert.equal(passes.length, 2);
    assert.deepEqual(result.figures.rejected, {}, 'the synthetic workload is all valid requests');
    for (const pass of passes) {
      assert.equal(pass.requests, 3000);
      const [big, small] = pass.policies.normalized!.caches as [{ hits: number; misses: number }, { hits: number; misses: number }];
      assert.equal(big.hits + big.misses, 3000);
      assert.ok(big.misses >= pass.policies.normalized!.unique, 'a miss for every new key at least');
      assert.ok(small.misses >= big.misses, 'a smaller cache misses no less');
      assert.ok(pass.policies.naive!.caches[0]!.misses >= big.misses);
      assert.ok(pass.transforms <= big.misses);
    }
  });

  it('hit-ratio: replays a CloudFront standard access log', async () => {
    const log = join(scratch, 'E2EXAMPLE.2026-12-01-08.log');
    await writeFile(log, formatAccessLog(syntheticWorkload({ requests: 400, images: 30, tenant: 'demo', objectBytes: 12_345 })));
    const result = await runHitRatio({ requests: 0, images: 0, log });
    await assertShape(result, 'hit-ratio', 2);
    const passes = result.figures.passes as { requests: number }[];
    assert.equal(passes.length, 1);
    assert.equal(passes[0]!.requests, 400);
  });

  it('viewer-function: measures with the JIT and in a --jitless child', async () => {
    const result = await runViewerFunction({ rounds: 1, perRound: 300 });
    await assertShape(result, 'viewer-function', 4);
    const { jit, jitless } = result.figures as { jit: { jitless: boolean; bundleBytes: number; roundMeans: number[] }; jitless: { jitless: boolean; perRequest: { n: number } } };
    assert.equal(jit.jitless, false);
    assert.equal(jitless.jitless, true);
    assert.equal(jitless.perRequest.n, 300);
    assert.ok(jit.bundleBytes > 1000 && jit.bundleBytes <= 10 * 1024);
    assert.ok(jit.roundMeans[0]! > 0);
  });

  it('variant-set: three renderers in fresh processes, and a PSNR', async () => {
    const result = await runVariantSet({ rounds: 1, photo: SMALL_PHOTO, fixture: false });
    await assertShape(result, 'variant-set', 3);
    const [image] = result.figures.images as { runs: Record<string, { outputs: number; wallMs: number; peakRssMiB: number }[]>; psnr: { lossless: number } }[];
    for (const runs of Object.values(image!.runs)) {
      assert.equal(runs[0]!.outputs, 9);
      assert.ok(runs[0]!.wallMs > 0 && runs[0]!.peakRssMiB > 0);
    }
    assert.ok(image!.psnr.lossless > 30, `${image!.psnr.lossless} dB`);
  });

  it('miss-path: the origin-request handler renders on every round, beside jimp and sharp', async () => {
    const result = await runMissPath({ rounds: 1, photo: SMALL_PHOTO, tjbenchSeconds: 0.2, installTools: false });
    await assertShape(result, 'miss-path', 1);
    const samples = result.figures.samples as Record<string, number[]>;
    for (const [name, values] of Object.entries(samples)) if (name !== 'tjbench full decode') assert.equal(values.length, 1, name);
  });

  it('coalescing: one render for a burst on one cold key', async () => {
    const result = await runCoalescing({ rounds: 1, concurrency: 40, photo: SMALL_PHOTO });
    await assertShape(result, 'coalescing', 2);
    assert.deepEqual(result.figures.renders, [1]);
    assert.deepEqual(result.figures.failures, []);
  });

  it('takedown-fanout: every path invalidated, within the quotas, in both designs', async () => {
    const result = await runTakedownFanout({ images: 60, completionDelayMs: 40 });
    await assertShape(result, 'takedown-fanout', 3);
    const figures = result.figures as { minimumMs: number; designs: { lost: number; givenUp: string[]; stats: { created: number; peakWildcardPaths: number; peakFilePaths: number }; elapsedMs: number }[] };
    assert.equal(figures.designs.length, 2);
    for (const design of figures.designs) {
      assert.equal(design.lost, 0);
      assert.deepEqual(design.givenUp, []);
      assert.equal(design.stats.created, 60);
      assert.ok(design.stats.peakWildcardPaths <= 15 && design.stats.peakFilePaths <= 3000);
    }
    assert.ok(figures.designs[1]!.elapsedMs >= figures.minimumMs, 'wildcards alone go no faster than their quota allows');
  });

  it('pipeline-overhead: the re-render renders every original', async () => {
    const result = await runPipelineOverhead({ originals: 8, rounds: 1, photo: { width: 160, height: 120 } });
    await assertShape(result, 'pipeline-overhead', 1);
    assert.deepEqual((result.figures.summaries as { rendered: number }[]).map((s) => s.rendered), [8]);
  });

  it('edge-hits: load on the edge and on a bare server, without errors', async () => {
    const result = await runEdgeHits({ rounds: 1, seconds: 1, connections: 8, installTools: false });
    await assertShape(result, 'edge-hits', 2);
    for (const loads of Object.values(result.figures.loads as Record<string, { rps: number; errors: number }[]>)) {
      assert.ok(loads[0]!.rps > 0);
      assert.equal(loads[0]!.errors, 0);
    }
  });

  it('failover: misses in every outage mode, none of them a 5xx', async () => {
    const result = await runFailover({ rounds: 1, requests: 1, photo: SMALL_PHOTO });
    await assertShape(result, 'failover', 2);
    assert.equal(result.goals[0]!.met, true, result.goals[0]!.measured);
    assert.equal(result.tables[0]!.rows.length, 8);
  });
});
