import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { normalizeSequencer } from '../../core/sequencer.ts';
import { DEFAULT_RENDER_LIMITS } from '../../imaging/render-limits.ts';
import { MemoryS3, MemoryVersionMap } from '../shared/fakes.ts';
import { probeOriginal, ProbeInput, type ProbeDeps } from './probe-original.ts';

/** A real image, made by sharp from nothing: 64 × 48 px. */
const PNG = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 200, g: 80, b: 20 } } }).png().toBuffer();

function event(key: string, etag: string, sequencer: string, versionId?: string) {
  return ProbeInput.parse({
    source: 'aws.s3',
    'detail-type': 'Object Created',
    time: '2026-12-01T12:00:00Z',
    detail: { bucket: { name: 'originals' }, object: { key, etag, sequencer, ...(versionId ? { 'version-id': versionId } : {}) } },
  });
}

async function arrange(body: Buffer | string = PNG, limits = DEFAULT_RENDER_LIMITS) {
  const originals = new MemoryS3().bucket('originals');
  const versions = new MemoryVersionMap();
  const uploaded = originals.seed('shop/sku-1', body);
  const deps: ProbeDeps = { originals, versions, knownTenant: async (tenant) => tenant === 'shop', limits };
  return { deps, originals, versions, etag: uploaded.etag.replace(/"/g, ''), versionId: uploaded.versionId };
}

describe('probeOriginal', () => {
  it('calls for a render of a readable upload, with its size and format, named by its key and sequencer', async () => {
    // Arrange
    const a = await arrange();
    // Act
    const probed = await probeOriginal(event('shop/sku-1', `"${a.etag}"`, '00A1', a.versionId), a.deps);
    // Assert
    assert.deepEqual(probed, {
      action: 'render',
      tenant: 'shop',
      imageId: 'sku-1',
      sequencer: normalizeSequencer('00A1'),
      etag: a.etag,
      versionId: a.versionId,
      idempotencyKey: `shop/sku-1/${normalizeSequencer('00A1')}`,
      width: 64,
      height: 48,
      format: 'png',
    });
    assert.deepEqual(a.originals.writes, [], 'it only reads');
  });

  it('rejects, discards or skips, saying why, each upload that must not render', async () => {
    const cases: { name: string; arrange?: (a: Awaited<ReturnType<typeof arrange>>) => Promise<unknown>; body?: Buffer | string; key?: string; etag?: string; sequencer?: string; limits?: typeof DEFAULT_RENDER_LIMITS; expect: Record<string, unknown> }[] = [
      { name: 'not an image', body: 'plain text', expect: { action: 'reject', rejection: { code: 'UnprocessableImage' } } },
      { name: 'too many pixels', limits: { ...DEFAULT_RENDER_LIMITS, maxInputPixels: 1000 }, expect: { action: 'reject', rejection: { code: 'ImageTooLarge' } } },
      { name: 'too many bytes', limits: { ...DEFAULT_RENDER_LIMITS, maxInputBytes: 10 }, expect: { action: 'reject', rejection: { code: 'ImageTooLarge' } } },
      { name: 'an unknown tenant', key: 'nobody/sku-1', expect: { action: 'reject', rejection: { code: 'UnknownTenant', reason: "No tenant 'nobody' is configured." } } },
      { name: 'a system key', key: '_versions/shop/sku-1/1', expect: { action: 'skip' } },
      { name: 'replaced since the event', etag: 'another', expect: { action: 'skip', reason: 'the upload was replaced or deleted since the event' } },
      { name: 'older than the published upload', arrange: async (a) => { await a.versions.reserve('shop', 'sku-1', '00B0', 'k'); await a.versions.publish('shop', 'sku-1', 1, '00B0', a.etag); }, expect: { action: 'skip', reason: 'version 1 comes from a newer upload' } },
      { name: 'taken down', arrange: (a) => a.versions.tombstone('shop', 'sku-1', 'dmca'), expect: { action: 'discard' } },
    ];
    for (const c of cases) {
      // Arrange
      const a = await arrange(c.body, c.limits);
      await c.arrange?.(a);
      // Act
      const probed = await probeOriginal(event(c.key ?? 'shop/sku-1', c.etag ?? a.etag, c.sequencer ?? '00A1'), a.deps);
      // Assert
      for (const [field, value] of Object.entries(c.expect)) {
        const actual = (probed as Record<string, unknown>)[field];
        if (typeof value === 'object') for (const [k, v] of Object.entries(value as object)) assert.equal((actual as Record<string, unknown>)[k], v, `${c.name}: ${field}.${k}`);
        else assert.equal(actual, value, `${c.name}: ${field}`);
      }
    }
  });

  it("notes each upload of a known tenant and the execution handling it, for the status, whatever it decides", async () => {
    const a = await arrange();
    await probeOriginal(event('shop/sku-1', `"${a.etag}"`, '00A1', a.versionId), a.deps, { executionId: 'arn:aws:states:us-east-1:111122223333:execution:RenderOnUpload:one' });
    assert.equal((await a.versions.get('shop', 'sku-1'))?.lastUpload?.executionArn, 'arn:aws:states:us-east-1:111122223333:execution:RenderOnUpload:one');
    // An older event, delivered late, leaves the newer note.
    await probeOriginal(event('shop/sku-1', `"${a.etag}"`, '0099', a.versionId), a.deps, { executionId: 'arn:old' });
    assert.equal((await a.versions.get('shop', 'sku-1'))?.lastUpload?.sequencer, normalizeSequencer('00A1'));
    // An unknown tenant's upload is rejected without a row of its own.
    await probeOriginal(event('nobody/x', '"e"', '00B1'), a.deps, { executionId: 'arn:nobody' });
    assert.equal(await a.versions.get('nobody', 'x'), null);
  });

  it('goes on with an upload that already published (a duplicate event), and answers the same when run again', async () => {
    const a = await arrange();
    await a.versions.reserve('shop', 'sku-1', '00A1', 'k');
    await a.versions.publish('shop', 'sku-1', 1, '00A1', a.etag);
    const first = await probeOriginal(event('shop/sku-1', a.etag, '00A1'), a.deps);
    assert.equal(first.action, 'render');
    assert.deepEqual(await probeOriginal(event('shop/sku-1', a.etag, '00A1'), a.deps), first);
  });

  it('fails as OriginUnavailable when a store does not answer, rather than reject a good upload', async () => {
    for (const failing of ['originals', 'versions'] as const) {
      const a = await arrange();
      if (failing === 'originals') a.originals.failing.add('get');
      else a.versions.failing.add('get');
      await assert.rejects(probeOriginal(event('shop/sku-1', a.etag, '00A1'), a.deps), { name: 'OriginUnavailable' }, failing);
    }
  });
});
