import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { findDebianTool } from './debian-tool.ts';

export interface Load {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  /** Socket errors plus non-2xx answers. */
  readonly errors: number;
}

export interface LoadGenerator {
  readonly name: string;
  /** Why this one and not wrk, when it is not wrk. */
  readonly note?: string;
  run(url: string, seconds: number, connections: number): Promise<Load>;
}

const run = promisify(execFile);

/**
 * wrk (Debian's) in its own process when it can be had, else autocannon. On this
 * machine autocannon's client tops out near 1,200 requests/s on a 40 KB binary
 * body, where wrk reaches about 50,000: autocannon would measure itself.
 */
export async function findLoadGenerator(install = true): Promise<LoadGenerator> {
  const wrk = await findDebianTool('wrk', 'wrk', install);
  if (wrk.path) {
    const path = wrk.path;
    return { name: 'wrk (one thread, a second process)', run: (url, seconds, connections) => runWrk(path, url, seconds, connections) };
  }
  return { name: 'autocannon (a second process)', note: `${'reason' in wrk ? wrk.reason : ''}; autocannon's own client caps the figures`, run: runAutocannon };
}

async function runWrk(wrk: string, url: string, seconds: number, connections: number): Promise<Load> {
  const { stdout } = await run(wrk, ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', url], { timeout: (seconds + 60) * 1000 });
  const number = (pattern: RegExp) => Number(pattern.exec(stdout)?.[1] ?? NaN);
  const errors = (/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout)?.slice(1) ?? []).reduce((n, v) => n + Number(v), 0);
  return { rps: number(/Requests\/sec:\s+([0-9.]+)/), p50: latencyMs(stdout, '50%'), p99: latencyMs(stdout, '99%'), errors: errors + (number(/Non-2xx or 3xx responses: (\d+)/) || 0) };
}

/** wrk prints latencies as 812.00us, 1.05ms or 1.20s. */
function latencyMs(report: string, percentile: string): number {
  const match = new RegExp(`^\\s*${percentile}\\s+([0-9.]+)(us|ms|s)\\s*$`, 'm').exec(report);
  if (!match) throw new Error(`Expected a ${percentile} latency line from wrk but received:\n${report}`);
  return Number(match[1]) * { us: 0.001, ms: 1, s: 1000 }[match[2] as 'us' | 'ms' | 's'];
}

const AUTOCANNON = createRequire(import.meta.url).resolve('autocannon/autocannon.js');

async function runAutocannon(url: string, seconds: number, connections: number): Promise<Load> {
  const { stdout } = await run(process.execPath, [AUTOCANNON, '--no-progress', '-c', String(connections), '-d', String(seconds), '-j', url], { maxBuffer: 16 * 1024 * 1024, timeout: (seconds + 60) * 1000 });
  const report = JSON.parse(stdout) as { requests: { average: number }; latency: { p50: number; p99: number }; errors: number; non2xx: number };
  return { rps: report.requests.average, p50: report.latency.p50, p99: report.latency.p99, errors: report.errors + report.non2xx };
}
