import type { FaultMode } from './regions.ts';

/** One of the twin's servers, as the health endpoint reports it. */
export interface ServerHealth {
  /** What it is: `edge (CloudFront)`, `S3 us-east-1`, ... */
  readonly name: string;
  readonly endpoint: string;
  /** It answered HTTP (any status) within the probe's timeout. */
  readonly up: boolean;
  /** A game-day fault put on it (`pictor twin fault`): not probed, and not counted as down. */
  readonly fault?: Exclude<FaultMode, 'off'>;
  /** Why it is down: the connection's error. */
  readonly error?: string;
}

/**
 * The twin's health: `ok` when every server answers, `degraded` when only injected
 * faults stop some, `down` when a server that should answer does not.
 */
export interface HealthReport {
  readonly status: 'ok' | 'degraded' | 'down';
  readonly servers: readonly ServerHealth[];
}

/** A server to probe, and the fault it is in, if any. */
export interface HealthTarget {
  readonly name: string;
  readonly endpoint: string;
  readonly fault?: FaultMode;
}

/** How long a server may take to answer a probe. */
const PROBE_TIMEOUT_MS = 2_000;

/** Probes every target at once (an HTTP GET of `/`; any answer is up) and reports them in order. */
export async function probeHealth(targets: readonly HealthTarget[]): Promise<HealthReport> {
  const servers = await Promise.all(
    targets.map(async ({ name, endpoint, fault }): Promise<ServerHealth> => {
      if (fault && fault !== 'off') return { name, endpoint, up: false, fault };
      try {
        const response = await fetch(`${endpoint}/`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
        await response.body?.cancel();
        return { name, endpoint, up: true };
      } catch (error) {
        const cause = (error as Error).cause as { code?: string } | undefined;
        return { name, endpoint, up: false, error: cause?.code ?? (error as Error).name };
      }
    }),
  );
  return { status: summarize(servers), servers };
}

export function summarize(servers: readonly ServerHealth[]): HealthReport['status'] {
  if (servers.some((s) => !s.up && !s.fault)) return 'down';
  return servers.some((s) => s.fault) ? 'degraded' : 'ok';
}

/** The report as the CLI and the start banner print it: a line per server. */
export function formatHealth(report: HealthReport): string {
  const lines = report.servers.map((s) => `${s.name.padEnd(28)}${(s.up ? 'up' : s.fault ? `fault ${s.fault}` : `DOWN (${s.error ?? 'no answer'})`).padEnd(24)}${s.endpoint}`);
  return [`twin: ${report.status}`, ...lines].join('\n');
}
