import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseVariantName, variantName, variantQuery, type VariantSpec } from './variant.ts';

describe('variant query and name', () => {
  const cases: [spec: VariantSpec, query: string, name: string][] = [
    [{ fmt: 'legacy', q: 75 }, 'fmt=legacy&q=75', 'q75.legacy'],
    [{ fmt: 'png' }, 'fmt=png', 'full.png'],
    [{ fmt: 'webp', q: 75, w: 320 }, 'fmt=webp&q=75&w=320', 'w320_q75.webp'],
    [{ fmt: 'avif', h: 200, q: 50 }, 'fmt=avif&h=200&q=50', 'h200_q50.avif'],
    [{ fit: 'contain', fmt: 'jpeg', h: 200, q: 90, w: 320 }, 'fit=contain&fmt=jpeg&h=200&q=90&w=320', 'w320_h200_contain_q90.jpeg'],
    [{ fit: 'inside', fmt: 'png', h: 480, w: 640 }, 'fit=inside&fmt=png&h=480&w=640', 'w640_h480_inside.png'],
  ];
  for (const [spec, query, name] of cases) {
    it(`writes ${name} and its query ${query}, and reads the name back`, () => {
      assert.equal(variantQuery(spec), query);
      assert.equal(variantName(spec), name);
      assert.deepEqual(parseVariantName(name), spec);
    });
  }

  it('reads no name that variantName never writes', () => {
    for (const name of ['w320.gif', 'w320', '.webp', 'w320.', 'full', 'w0.webp', 'w032.webp', 'x320.webp', 'w320_h.webp', 'w320_fill.webp', 'h200_w320.webp', 'w320_w640.webp', 'w320__q75.webp', 'full_q75.webp', 'W320.webp']) {
      assert.equal(parseVariantName(name), null, name);
    }
  });
});
