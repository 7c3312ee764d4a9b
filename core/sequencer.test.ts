import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { compareSequencers, normalizeSequencer } from './sequencer.ts';
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

describe('object keys', () => {
  it('parses upload keys and refuses system keys and anything malformed', () => {
    assert.deepEqual(parseUploadKey('shop/sku-42'), { tenant: 'shop', imageId: 'sku-42' });
    for (const key of [snapshotKey({ tenant: 'shop', imageId: 'a' }, 2), quarantineKey({ tenant: 'shop', imageId: 'a' }, '00AB'), 'shop/a/b', 'Shop/a', 'shop/../a', 'shop/', 'shop']) {
      assert.equal(parseUploadKey(key), null, key);
    }
  });
});
