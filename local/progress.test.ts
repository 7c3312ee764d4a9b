import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { progressBar, progressText } from './progress.ts';

describe('the progress bar', () => {
  it('draws finished items, and those running', () => {
    assert.equal(progressText({ done: 0, running: 11, total: 11 }, 'originals', 10), '[..........] 0/11 originals, 11 running');
    assert.equal(progressText({ done: 5, running: 0, total: 10 }, 'images', 10), '[#####.....] 5/10 images');
    assert.equal(progressText({ done: 0, running: 0, total: 0 }, 'images', 4), '[....] 0/0 images');
  });

  it('writes a log line as the count moves, at most one per tenth, and the last one always', () => {
    const lines: string[] = [];
    const bar = progressBar({ write: (text: string) => lines.push(text) }, 'originals');
    for (const done of [0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]) bar.draw({ done, running: 0, total: 20 });
    bar.end();
    assert.deepEqual(lines, ['0/20 originals\n', '2/20 originals\n', '4/20 originals\n', '6/20 originals\n', '8/20 originals\n', '10/20 originals\n', '12/20 originals\n', '14/20 originals\n', '16/20 originals\n', '18/20 originals\n', '20/20 originals\n']);
  });

  it('redraws a terminal line in place only when it changes, wiping a longer one', () => {
    const out: string[] = [];
    const bar = progressBar({ write: (text: string) => out.push(text), isTTY: true }, 'x');
    bar.draw({ done: 0, running: 2, total: 2 });
    bar.draw({ done: 0, running: 2, total: 2 });
    bar.draw({ done: 2, running: 0, total: 2 });
    bar.end();
    assert.equal(out.length, 3);
    assert.ok(out[1]!.startsWith('\r[##############################] 2/2 x'));
    assert.equal(out[1]!.length, out[0]!.length, 'padded over the running count');
    assert.equal(out[2], '\n');
  });
});
