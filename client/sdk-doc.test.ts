import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { buildUrl, readPublicPolicy, sizes, srcset } from './index.ts';

/**
 * docs/SDK.md's examples, run: each line `call(...); // → 'result'` in a code
 * block is evaluated with the page's example policy and must give that result.
 */
const page = readFileSync(new URL('../docs/SDK.md', import.meta.url), 'utf8');

function examplePolicy() {
  const marker = page.indexOf('<!-- sdk-example-policy -->');
  const block = /```json\n([\s\S]*?)```/.exec(page.slice(marker));
  assert.ok(marker >= 0 && block, 'the page shows its example policy after <!-- sdk-example-policy -->');
  return readPublicPolicy(JSON.parse(block[1]!));
}

function examples(): { call: string; result: string }[] {
  const blocks = [...page.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return blocks.flatMap((block) =>
    block
      .split('\n')
      .map((line) => /^(.+?);\s*\/\/ → (.+)$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ call: m[1]!, result: m[2]! })),
  );
}

describe('docs/SDK.md', () => {
  const policy = examplePolicy();
  const found = examples();

  it('has examples to run', () => {
    assert.ok(found.length >= 8, `${found.length} examples`);
  });

  for (const { call, result } of found) {
    it(call, () => {
      const run = new Function('policy', 'buildUrl', 'srcset', 'sizes', `return (${call});`);
      assert.equal(run(policy, buildUrl, srcset, sizes), new Function(`return (${result});`)());
    });
  }
});
