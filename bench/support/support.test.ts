import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { monthlyBill, REFERENCE, referenceBill } from './cost-model.ts';
import { summarize } from './stats.ts';
import { syntheticWorkload } from './workload.ts';

describe('bench support', () => {
  it('summarize: the median of an even count is the middle pair’s mean; p99 is the nearest rank', () => {
    assert.deepEqual(summarize([4, 1, 3, 2]), { n: 4, median: 2.5, min: 1, max: 4, mean: 2.5, p99: 4 });
    assert.equal(summarize([5, 1, 9]).median, 5);
    assert.equal(summarize(Array.from({ length: 200 }, (_, i) => i + 1)).p99, 198);
  });

  it('the cost model gives back the design review’s reference bill from its prices', () => {
    const bill = referenceBill();
    assert.equal(Math.round(bill.transforms), REFERENCE.transforms);
    assert.ok(Math.abs(bill.total - REFERENCE.bill) / REFERENCE.bill < 0.01, `${bill.total}`);
    assert.equal(monthlyBill({ requests: 0, bytes: 0, functionInvocations: 0, misses: 0, transforms: 0, s3Gets: 0 }).total, 0);
  });

  it('the synthetic workload is seeded, and about 30% of it carries tracking or session parameters', () => {
    const a = [...syntheticWorkload({ requests: 5000, images: 500, seed: 3 })];
    const b = [...syntheticWorkload({ requests: 5000, images: 500, seed: 3 })];
    assert.deepEqual(a, b);
    const tracked = a.filter((r) => /(^|&)(utm_\w+|gclid|fbclid|sessionid|_ga|ref)=/i.test(r.query)).length / a.length;
    assert.ok(tracked > 0.27 && tracked < 0.33, `${tracked}`);
    const busted = a.filter((r) => /(^|&)(_|cb)=/.test(r.query)).length / a.length;
    assert.ok(busted > 0.004 && busted < 0.02, `${busted}`);
  });
});
