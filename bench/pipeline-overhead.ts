import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { parseConfig, standardVariants } from '../core/tenant-config.ts';
import { renderVariantSet } from '../imaging/render-set.ts';
import { DEFAULT_RENDER_LIMITS } from '../imaging/render.ts';
import { startTwin } from '../local/twin.ts';
import { settle, upload } from '../test/support/pipeline-twin.ts';
import { photoLike } from './support/photo.ts';
import { goal, type BenchResult } from './support/report.ts';
import { alternate, spread, summarize } from './support/stats.ts';

export interface PipelineOverheadOptions {
  readonly originals: number;
  /** Alternated rounds of both cases. */
  readonly rounds: number;
  /** The originals' size: small, so 1,000 of them fit the bench budget. @default 400x300 */
  readonly photo?: { readonly width: number; readonly height: number };
}

export const PIPELINE_OVERHEAD_FULL: PipelineOverheadOptions = { originals: 1000, rounds: 2 };

const TENANT = 'cat';
/** Uploads render one small variant; the re-render renders the set measured here. */
const CONFIG = parseConfig({ tenants: { [TENANT]: { breakpoints: [160, 320, 640], formats: ['webp'], variants: { widths: [160], formats: ['webp'] } } } });
const RERENDER = { widths: [160, 320, 640], formats: ['webp', 'legacy'] as ('webp' | 'legacy')[] };

type Case = 'CatalogueRerender on the twin' | 'renderVariantSet in a loop';

/**
 * A catalogue re-render of 1,000 originals through the twin (the synthesized ASL on
 * aws-local-stepfunctions, the real tasks on s3rver and dynalite), against the same
 * renders called directly in a loop from memory. The difference is the pipeline's
 * overhead: listing, state, S3 reads and writes, version bookkeeping.
 */
export async function runPipelineOverhead(options: PipelineOverheadOptions): Promise<BenchResult> {
  const size = options.photo ?? { width: 400, height: 300 };
  const { jpeg } = await photoLike(size.width, size.height);
  const dataDir = await mkdtemp(join(tmpdir(), 'pictor-bench-pipeline-'));
  const twin = await startTwin({ config: CONFIG, dataDir, logLevel: 'SILENT', timeScale: 0.002 });
  const sfn = new SFNClient({ region: 'us-east-1', endpoint: twin.controlUrl });
  const times: Record<Case, number[]> = { 'CatalogueRerender on the twin': [], 'renderVariantSet in a loop': [] };
  const summaries: unknown[] = [];
  let seedMs = 0;
  try {
    const seeded = Date.now();
    for (let i = 0; i < options.originals; i++) await upload(twin, `${TENANT}/img-${String(i).padStart(5, '0')}`, jpeg);
    await settle(twin);
    seedMs = Date.now() - seeded;
    const tenant = CONFIG.tenants[TENANT]!;
    const specs = standardVariants({ ...tenant, variants: { ...tenant.variants, ...RERENDER } });
    const limits = { ...DEFAULT_RENDER_LIMITS, maxDimension: 640 };
    let job = 0;
    await alternate(options.rounds, ['CatalogueRerender on the twin', 'renderVariantSet in a loop'] as const, async (name) => {
      const start = process.hrtime.bigint();
      if (name === 'renderVariantSet in a loop') {
        for (let i = 0; i < options.originals; i++) await renderVariantSet(jpeg, specs, limits);
      } else {
        const jobId = `bench-${job++}`;
        const { executionArn } = await sfn.send(
          new StartExecutionCommand({
            stateMachineArn: twin.pipeline!.stateMachines.CatalogueRerender,
            name: jobId,
            input: JSON.stringify({ jobId, detail: { schemaVersion: 1, requester: 'bench@example.com', tenant: TENANT, variants: RERENDER } }),
          }),
        );
        const execution = twin.pipeline!.stepFunctions.describe(executionArn!)!;
        while (execution.status === 'RUNNING') await new Promise((resolve) => setTimeout(resolve, 10));
        const summary = execution.output as { rendered: number; failed: number; skipped: number };
        if (execution.status !== 'SUCCEEDED' || summary.rendered !== options.originals) throw new Error(`Expected ${options.originals} rendered but the re-render ended ${execution.status}: ${JSON.stringify(execution.output ?? execution.cause)}`);
        summaries.push(summary);
        await settle(twin);
      }
      times[name].push(Number(process.hrtime.bigint() - start) / 1e6);
    });
  } finally {
    sfn.destroy();
    await twin.close();
    await rm(dataDir, { recursive: true, force: true });
  }
  const pipeline = summarize(times['CatalogueRerender on the twin']);
  const direct = summarize(times['renderVariantSet in a loop']);
  const ratio = pipeline.median / direct.median;
  return {
    name: 'pipeline-overhead',
    parameters: { ...options, photo: `${size.width}x${size.height} JPEG, ${(jpeg.length / 1e3).toFixed(0)} KB`, rerender: RERENDER, seedSeconds: seedMs / 1000 },
    tables: [
      {
        title: `Re-rendering ${options.originals.toLocaleString('en-US')} originals (${size.width}x${size.height}) to ${RERENDER.widths.length * RERENDER.formats.length} variants each, s: median (min–max) of ${options.rounds} alternated rounds`,
        columns: ['case', 's', 'ms per original', '÷ direct'],
        rows: (Object.keys(times) as Case[]).map((name) => {
          const s = summarize(times[name].map((t) => t / 1000));
          return [name, spread(s, 1), ((s.median * 1000) / options.originals).toFixed(1), (s.median / (direct.median / 1000)).toFixed(2) + 'x'];
        }),
      },
    ],
    goals: [goal('pipeline ≤ 1.15x the direct renders', `${ratio.toFixed(2)}x (${(pipeline.median / 1000).toFixed(1)} s against ${(direct.median / 1000).toFixed(1)} s)`, ratio <= 1.15)],
    figures: { times, summaries, seedMs },
  };
}
