// A node:test reporter that writes each test file's wall time, in seconds, as JSON
// ({"path": seconds}): from the runner's dequeueing of the file (its process starts)
// to the file's completion. scripts/test.mjs reads it to start the longest files first.
export default async function* fileTimes(source) {
  const started = new Map();
  const seconds = {};
  for await (const event of source) {
    const { file, name } = event.data ?? {};
    if (!file || name !== file) continue;
    if (event.type === 'test:dequeue') started.set(file, performance.now());
    if (event.type === 'test:complete' && started.has(file)) seconds[file] = Math.round((performance.now() - started.get(file)) / 100) / 10;
  }
  yield JSON.stringify(seconds);
}
