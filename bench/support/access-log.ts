import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import type { ReplayRequest } from './workload.ts';

/**
 * Reads a CloudFront standard access log (W3C, tab-separated, `#Fields:` header;
 * gzipped as CloudFront delivers it, or plain). Standard logs do not record the
 * Accept header, so every request gets `accept`.
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/standard-logs-reference.html
 */
export async function* readAccessLog(path: string, accept: string | undefined): AsyncGenerator<ReplayRequest> {
  const stream = createReadStream(path);
  const lines = createInterface({ input: path.endsWith('.gz') ? stream.pipe(createGunzip()) : stream, crlfDelay: Infinity });
  let fields: string[] | undefined;
  for await (const line of lines) {
    if (line.startsWith('#Fields:')) {
      fields = line.slice('#Fields:'.length).trim().split(/\s+/);
      continue;
    }
    if (line.startsWith('#') || line.trim() === '') continue;
    if (!fields) throw new Error(`${path}: no #Fields line before the first record; is this a CloudFront standard log?`);
    const values = line.split('\t');
    const field = (name: string) => {
      const at = fields!.indexOf(name);
      const value = at < 0 ? undefined : values[at];
      return value === undefined || value === '-' ? '' : value;
    };
    const uri = field('cs-uri-stem');
    if (!uri) continue;
    yield { method: field('cs-method') || 'GET', uri, query: field('cs-uri-query'), accept, bytes: Number(field('sc-bytes')) || 0 };
  }
}

/** One record in the standard log's format, for writing test logs. */
export const ACCESS_LOG_FIELDS = ['date', 'time', 'x-edge-location', 'sc-bytes', 'c-ip', 'cs-method', 'cs(Host)', 'cs-uri-stem', 'sc-status', 'cs(Referer)', 'cs(User-Agent)', 'cs-uri-query'];

export function formatAccessLog(requests: Iterable<ReplayRequest>): string {
  const lines = ['#Version: 1.0', `#Fields: ${ACCESS_LOG_FIELDS.join(' ')}`];
  for (const r of requests) {
    lines.push(['2026-12-01', '08:00:00', 'IAD89-C1', r.bytes, '192.0.2.1', r.method, 'd111111abcdef8.cloudfront.net', r.uri, 200, '-', 'Mozilla/5.0', r.query || '-'].join('\t'));
  }
  return lines.join('\n') + '\n';
}
