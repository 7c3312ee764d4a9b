import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export type ToolLookup = { readonly path: string } | { readonly path: null; readonly reason: string };

/**
 * A command-line tool from a Debian package (tjbench, wrk): installed with apt-get
 * when absent and `install` allows (this needs root); null, with the reason, when it cannot be had.
 */
export async function findDebianTool(binary: string, debianPackage: string, install = true): Promise<ToolLookup> {
  const found = await which(binary);
  if (found) return { path: found };
  if (!install) return { path: null, reason: `${binary} is not installed (${debianPackage})` };
  if (process.getuid?.() !== 0) return { path: null, reason: `${binary} is not installed and installing ${debianPackage} needs root` };
  try {
    await run('apt-get', ['install', '-y', '-q', debianPackage], { timeout: 180_000, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  } catch (error) {
    return { path: null, reason: `apt-get install ${debianPackage} failed: ${String((error as Error).message).split('\n')[0]}` };
  }
  const installed = await which(binary);
  return installed ? { path: installed } : { path: null, reason: `${debianPackage} installed no ${binary}` };
}

async function which(name: string): Promise<string | null> {
  try {
    return (await run('sh', ['-c', `command -v ${name}`])).stdout.trim() || null;
  } catch {
    return null;
  }
}
