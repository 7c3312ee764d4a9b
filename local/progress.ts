/** A job's items, summed over its map runs: finished (whatever the outcome), in progress, and in all. */
export interface ItemCounts {
  done: number;
  running: number;
  total: number;
}

/** The bar's text for these counts: `[#####.........] 3/11 originals, 8 running`. */
export function progressText(counts: ItemCounts, noun: string, width = 30): string {
  const share = counts.total === 0 ? 0 : Math.min(1, counts.done / counts.total);
  const filled = Math.round(share * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${counts.done}/${counts.total} ${noun}${counts.running > 0 ? `, ${counts.running} running` : ''}`;
}

/**
 * A one-line bar redrawn in place on a terminal; on anything else (a log, a pipe), a
 * line whenever the finished count changes, at most one per tenth of the total, so
 * that a log shows the job moving without a line per item.
 */
export function progressBar(stderr: { write(text: string): unknown; readonly isTTY?: boolean }, noun: string) {
  let lastText = '';
  let lastTenth = -1;
  let lastDone = -1;
  return {
    draw(counts: ItemCounts) {
      if (stderr.isTTY) {
        const text = progressText(counts, noun);
        // Padded, so a shorter line wipes the end of a longer one.
        if (text !== lastText) stderr.write(`\r${text.padEnd(lastText.length)}`);
        lastText = text;
        return;
      }
      if (counts.total === 0 || counts.done === lastDone) return;
      const tenth = Math.floor((counts.done / counts.total) * 10);
      if (tenth === lastTenth && counts.done !== counts.total) return;
      lastTenth = tenth;
      lastDone = counts.done;
      stderr.write(`${counts.done}/${counts.total} ${noun}\n`);
    },
    end() {
      if (stderr.isTTY && lastText) stderr.write('\n');
    },
  };
}
