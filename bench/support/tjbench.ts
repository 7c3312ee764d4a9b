import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { findDebianTool, type ToolLookup } from './debian-tool.ts';

/** libjpeg-turbo's own benchmark, from Debian's libjpeg-turbo-progs. */
export function findTjbench(install = true): Promise<ToolLookup> {
  return findDebianTool('tjbench', 'libjpeg-turbo-progs', install);
}

/** Milliseconds of one full decode of the JPEG file to packed RGB, as tjbench times it (its "Decompress" frame rate). */
export async function tjbenchDecodeMs(tjbench: string, file: string, seconds = 1): Promise<number> {
  const { stdout } = await promisify(execFile)(tjbench, [file, '-benchtime', String(seconds), '-warmup', '0.2', '-nowrite', '-rgb'], { timeout: 120_000 });
  const match = /Decompress\s+-->\s+Frame rate:\s+([0-9.]+)\s+fps/.exec(stdout);
  if (!match) throw new Error(`Expected a "Decompress --> Frame rate" line from tjbench but received:\n${stdout}`);
  return 1000 / Number(match[1]);
}
