import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseConfig } from '../../core/tenant-config.ts';
import { MAX_ITEM_BYTES, PlanInput, planRerender } from './plan-rerender.ts';
import { STATE_LIMIT_BYTES } from '../shared/rerender-state.ts';

const CONFIG = parseConfig({ tenants: { cat: { breakpoints: [32, 64], formats: ['webp'] }, dog: { breakpoints: [32], formats: ['webp'] } } });
const detail = { schemaVersion: 1, requester: 'ops@example.com', tenant: 'cat' };

describe('planRerender', () => {
  it('plans a fresh job as part 1 with the deployment\'s paging', () => {
    const planned = planRerender(PlanInput.parse({ jobId: 'j1', detail }), CONFIG, { pageSize: 3, pagesPerExecution: 2 });
    assert.deepEqual(planned.part, { number: 1, pages: 0 });
    assert.deepEqual([planned.job.pageSize, planned.job.pagesPerExecution, planned.job.resultsPrefix], [3, 2, 'rerenders/j1/results']);
    assert.deepEqual(planned.totals, { rendered: 0, skipped: 0, failed: 0, skippedBecause: {}, pages: 0 });
  });

  it('takes a continuation\'s job, cursor and counts as they are, and validates them', () => {
    const first = planRerender(PlanInput.parse({ jobId: 'j1', detail }), CONFIG, { pagesPerExecution: 2 });
    const totals = { ...first.totals, rendered: 6, pages: 2 };
    const input = { jobId: 'j1', continuation: { job: first.job, cursor: { tenantIndex: 0, token: 'tok' }, totals, part: 2 }, AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID: 'arn:x' };
    const next = planRerender(PlanInput.parse(input), CONFIG, { pagesPerExecution: 5 });
    assert.deepEqual(next, { job: { ...first.job, pagesPerExecution: 5 }, cursor: { tenantIndex: 0, token: 'tok' }, totals, part: { number: 2, pages: 0 } });
    assert.equal(PlanInput.safeParse({ jobId: 'j1', continuation: { ...input.continuation, totals: { rendered: -1 } } }).success, false);
  });

  it('refuses a job id too long for its continuations\' names (80 characters) and a page that could pass 256 KiB', () => {
    assert.throws(() => planRerender(PlanInput.parse({ jobId: 'x'.repeat(65), detail }), CONFIG), { name: 'InvalidEvent' });
    // 1,000 originals with the longest ids fit, with room.
    assert.ok(1000 * MAX_ITEM_BYTES < STATE_LIMIT_BYTES * 0.75);
    const many = parseConfig({ tenants: Object.fromEntries(Array.from({ length: 2500 }, (_, i) => [`tenant-${'t'.repeat(20)}-${i}`, { breakpoints: [32], formats: ['webp'] }])) });
    assert.throws(() => planRerender(PlanInput.parse({ jobId: 'j2', detail: { schemaVersion: 1, requester: 'ops@example.com' } }), many), { name: 'StateTooLarge' });
  });

  it('refuses, naming the problem, a request no tenant could serve and a deployment setting past the history limit', () => {
    const cases = [
      { name: 'an unknown tenant', input: { jobId: 'j3', detail: { ...detail, tenant: 'cow' } }, error: 'InvalidEvent', message: /No tenant 'cow'/ },
      { name: 'a width off the breakpoints', input: { jobId: 'j3', detail: { ...detail, variants: { widths: [48] } } }, error: 'InvalidEvent', message: /no breakpoint 48/ },
      { name: 'a format the tenant does not offer', input: { jobId: 'j3', detail: { ...detail, variants: { formats: ['avif'] } } }, error: 'InvalidEvent', message: /does not offer avif/ },
      { name: 'not a "Rerender Requested" detail', input: { jobId: 'j3', detail: { schemaVersion: 9 } }, error: 'InvalidEvent', message: /Rerender Requested/ },
      { name: 'a continuation under another job id', input: { jobId: 'j4', continuation: { job: planRerender(PlanInput.parse({ jobId: 'j3', detail }), CONFIG).job, cursor: { tenantIndex: 0 }, totals: { rendered: 0, skipped: 0, failed: 0, skippedBecause: {}, pages: 0 }, part: 2 } }, error: 'InvalidEvent', message: /arrived as job 'j4'/ },
    ];
    for (const c of cases) assert.throws(() => planRerender(PlanInput.parse(c.input), CONFIG), { name: c.error, message: c.message }, c.name);
    assert.throws(() => planRerender(PlanInput.parse({ jobId: 'j5', detail }), CONFIG, { pagesPerExecution: 10_000 }), { name: 'InvalidConfig', message: /at most \d+ pages per execution/ });
  });
});

