import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compareSequencers, isSequencer, normalizeSequencer } from './sequencer.ts';
import { parseUploadKey, quarantineKey, snapshotKey } from './object-keys.ts';

describe('S3 sequencers', () => {
  it('right-pads before comparing, as the S3 documentation says', () => {
    assert.equal(compareSequencers('0055AED6DCD90281E5', '0055AED6DCD90281E6'), -1);
    assert.equal(compareSequencers('0055AED6DCD9028', '0055AED6DCD90280'), 0);
    assert.equal(compareSequencers('0056', '0055AED6DCD90281E5'), 1);
    assert.throws(() => normalizeSequencer('xyz'), /Expected an S3 sequencer/);
  });

  it('orders like the right-padded hex numbers they are', () => {
    const hex = fc.stringMatching(/^[0-9A-F]{1,32}$/);
    const value = (s: string) => BigInt('0x' + normalizeSequencer(s));
    fc.assert(fc.property(hex, hex, (a, b) => compareSequencers(a, b) === (value(a) < value(b) ? -1 : value(a) > value(b) ? 1 : 0)));
  });
});

describe('sequencer form', () => {
  it('is 1 to 32 hex digits in either case, nothing around them', () => {
    for (const ok of ['0', 'a', 'F'.repeat(32), '0055aed6DCD90281E5']) assert.ok(isSequencer(ok), ok);
    for (const bad of ['', 'G', 'F'.repeat(33), ' 00', '00 ', '0x00', '00-1']) assert.equal(isSequencer(bad), false, bad);
  });

  it('stores a fixed-width uppercase form, and says what it expected when given anything else', () => {
    assert.equal(normalizeSequencer('0055aed6'), '0055AED6' + '0'.repeat(24));
    assert.equal(normalizeSequencer('F'.repeat(32)), 'F'.repeat(32));
    assert.throws(() => normalizeSequencer('0x1'), { message: "Expected an S3 sequencer (1 to 32 hex digits) but received '0x1'." });
    assert.equal(compareSequencers('00ab', '00AB'), 0);
  });
});

describe('object keys', () => {
  it('parses upload keys and refuses system keys and anything malformed', () => {
    assert.deepEqual(parseUploadKey('shop/sku-42'), { tenant: 'shop', imageId: 'sku-42' });
    for (const key of [snapshotKey({ tenant: 'shop', imageId: 'a' }, 2), quarantineKey({ tenant: 'shop', imageId: 'a' }, '00AB'), 'shop/a/b', 'Shop/a', 'shop/../a', 'shop/', 'shop']) {
      assert.equal(parseUploadKey(key), null, key);
    }
  });
});
