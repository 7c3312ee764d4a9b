import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { PIPELINE_ERROR_CODES, SERVER_ERROR_CODES, VIEWER_ERROR_CODES } from '../core/error-codes.ts';
import { ERROR_REFERENCE_PATH, renderErrorReference } from '../scripts/error-reference.ts';

describe('docs/ERROR-CODES.md', () => {
  it('is what core\'s vocabulary generates (run `npm run docs:errors` after changing a code)', () => {
    assert.equal(readFileSync(ERROR_REFERENCE_PATH, 'utf8'), renderErrorReference());
  });

  it('has one row per code, each with its status', () => {
    const page = renderErrorReference();
    for (const [code, { status }] of Object.entries({ ...VIEWER_ERROR_CODES, ...SERVER_ERROR_CODES, ...PIPELINE_ERROR_CODES })) {
      const rows = page.split('\n').filter((line) => line.startsWith(`| \`${code}\` |`));
      assert.equal(rows.length, 1, code);
      assert.match(rows[0]!, new RegExp(`^\\| \`${code}\` \\| ${status} \\|`));
    }
  });
});
