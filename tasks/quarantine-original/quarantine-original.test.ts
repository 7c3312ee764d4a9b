import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryS3, RecordingPublisher } from '../shared/fakes.ts';
import { quarantineOriginal, type QuarantineInput } from './quarantine-original.ts';

const REJECTION = { code: 'UnprocessableImage', reason: JSON.stringify({ errorType: 'UnprocessableImage', errorMessage: 'Not an image sharp can decode.', trace: [] }) };

function arrange(versioned: boolean) {
  const originals = new MemoryS3().bucket('originals', { versioned });
  const rejected = originals.seed('shop/a', 'not an image');
  const events = new RecordingPublisher();
  const input: QuarantineInput = { tenant: 'shop', imageId: 'a', sequencer: '0007', etag: rejected.etag.replace(/"/g, ''), ...(versioned ? { versionId: rejected.versionId } : {}), idempotencyKey: 'shop/a/0007', rejection: REJECTION };
  return { originals, events, input, deps: { originals, events } };
}

describe('quarantineOriginal', () => {
  it('moves the rejected upload into quarantine and says why in "Original Rejected", the Lambda Cause unwrapped to its message', async () => {
    for (const versioned of [true, false]) {
      // Arrange
      const a = arrange(versioned);
      // Act
      const result = await quarantineOriginal(a.input, a.deps);
      // Assert
      assert.deepEqual(result, { quarantineKey: '_quarantine/shop/a/0007', code: 'UnprocessableImage', reason: 'Not an image sharp can decode.' });
      assert.equal(a.originals.text('_quarantine/shop/a/0007'), 'not an image');
      assert.equal(a.originals.text('shop/a'), undefined, versioned ? 'versioned' : 'unversioned');
      assert.deepEqual(a.events.of('Original Rejected'), [{ schemaVersion: 1, tenant: 'shop', imageId: 'a', code: 'UnprocessableImage', reason: 'Not an image sharp can decode.', quarantineKey: '_quarantine/shop/a/0007' }]);
    }
  });

  it('never loses a good upload that raced in after the rejected one', async () => {
    for (const versioned of [true, false]) {
      const a = arrange(versioned);
      a.originals.seed('shop/a', 'a good image');
      const result = await quarantineOriginal(a.input, a.deps);
      assert.equal(a.originals.text('shop/a'), 'a good image', versioned ? 'versioned' : 'unversioned');
      // On a versioned bucket the rejected version itself is still copied out; without versions it is gone already.
      assert.equal(result.quarantineKey, versioned ? '_quarantine/shop/a/0007' : null);
    }
  });

  it('is safe to repeat (the quarantined copy stays, nothing more is moved), and a store failure is OriginUnavailable with no event sent', async () => {
    const a = arrange(true);
    await quarantineOriginal(a.input, a.deps);
    const again = await quarantineOriginal(a.input, a.deps);
    // The task's idempotency record answers a repeat with the first result; run bare, a repeat finds the version gone.
    assert.equal(again.quarantineKey, null);
    assert.equal(a.originals.text('_quarantine/shop/a/0007'), 'not an image');
    assert.deepEqual(a.originals.keys(), ['_quarantine/shop/a/0007']);

    const down = arrange(true);
    down.originals.failing.add('copyFrom');
    await assert.rejects(quarantineOriginal(down.input, down.deps), { name: 'OriginUnavailable' });
    assert.equal(down.originals.text('shop/a'), 'not an image');
    assert.equal(down.events.sent.length, 0);
  });
});
