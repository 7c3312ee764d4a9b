import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fixedClock, MemoryInvalidator } from '../shared/fakes.ts';
import { checkInvalidation } from './check-invalidation.ts';

const CREATED = new Date('2026-12-01T12:00:00.000Z');
const DEADLINE = 600;
const invalidation = (id: string) => ({ id, status: 'InProgress', path: '/img/shop/a', paths: 4, wildcard: false });

describe('checkInvalidation', () => {
  it("reports CloudFront's status, in progress or completed, until the deadline, counted from the invalidation's creation", async () => {
    const cases = [
      { name: 'in progress, just made', status: 'InProgress', after: 0, expect: 'InProgress' },
      { name: 'in progress, at the deadline', status: 'InProgress', after: DEADLINE, expect: 'InProgress' },
      { name: 'completed, long after the deadline', status: 'Completed', after: DEADLINE * 10, expect: 'Completed' },
    ];
    for (const c of cases) {
      // Arrange
      const invalidator = new MemoryInvalidator();
      const id = invalidator.add(CREATED, c.status);
      const clock = fixedClock(CREATED);
      clock.advance(c.after);
      // Act
      const checked = await checkInvalidation({ invalidation: invalidation(id) }, { invalidator, deadlineSeconds: DEADLINE, now: clock.now });
      // Assert
      assert.deepEqual(checked, { ...invalidation(id), status: c.expect }, c.name);
    }
  });

  it('fails as InvalidationTimedOut once an invalidation is in progress past the deadline, naming it and how long it waited', async () => {
    const invalidator = new MemoryInvalidator();
    const id = invalidator.add(CREATED);
    const clock = fixedClock(CREATED);
    clock.advance(DEADLINE + 1);
    await assert.rejects(checkInvalidation({ invalidation: invalidation(id) }, { invalidator, deadlineSeconds: DEADLINE, now: clock.now }), {
      name: 'InvalidationTimedOut',
      message: new RegExp(`Invalidation ${id} of 4 paths \\(/img/shop/a, …\\) is still InProgress after 601 s .*the deadline is 600 s`),
    });
  });

  it("passes CloudFront's failures on with their names", async () => {
    const down = new MemoryInvalidator();
    down.failing.add('get');
    await assert.rejects(checkInvalidation({ invalidation: invalidation('I1') }, { invalidator: down, deadlineSeconds: DEADLINE, now: () => CREATED }), { name: 'OriginUnavailable' });
    await assert.rejects(checkInvalidation({ invalidation: invalidation('I9') }, { invalidator: new MemoryInvalidator(), deadlineSeconds: DEADLINE, now: () => CREATED }), { name: 'InvalidConfig' });
  });
});
