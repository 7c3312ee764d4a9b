import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * libjpeg-turbo's own benchmark, from Debian's libjpeg-turbo-progs: installed
 * with apt-get when absent (this needs root); null, with the reason, when it cannot be had.
 */
export async function findTjbench(): Promise<{ path: string } | { path: null; reason: string }> {
  const found = await which('tjbench');
  if (found) return { path: found };
  if (process.getuid?.() !== 0) return { path: null, reason: 'tjbench is not installed and installing libjpeg-turbo-progs needs root' };
  try {
    await run('apt-get', ['install', '-y', '-q', 'libjpeg-turbo-progs'], { timeout: 180_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  } catch (error) {
    return { path: null, reason: `apt-get install libjpeg-turbo-progs failed: ${String((error as Error).message).split('\n')[0]}` };
  }
  const installed = await which('tjbench');
  return installed ? { path: installed } : { path: null, reason: 'libjpeg-turbo-progs installed no tjbench' };
}

/** Milliseconds of one full decode of the JPEG file to packed RGB, as tjbench times it (its "Decompress" frame rate). */
export async function tjbenchDecodeMs(tjbench: string, file: string, seconds = 1): Promise<number> {
  const { stdout } = await run(tjbench, [file, '-benchtime', String(seconds), '-warmup', '0.2', '-nowrite', '-rgb'], { timeout: 120_000 });
  const match = /Decompress\s+-->\s+Frame rate:\s+([0-9.]+)\s+fps/.exec(stdout);
  if (!match) throw new Error(`Expected a "Decompress --> Frame rate" line from tjbench but received:\n${stdout}`);
  return 1000 / Number(match[1]);
}

async function which(name: string): Promise<string | null> {
  try {
    return (await run('sh', ['-c', `command -v ${name}`])).stdout.trim() || null;
  } catch {
    return null;
  }
}
