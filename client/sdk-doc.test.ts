import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
// @aws-crypto/sha256-js, which the page names for browsers, is not installed here: the
// AWS SDK ships the same pure-JS SHA-256 (the same interface) as @smithy/core's Sha256Js.
import { Sha256Js } from '@smithy/core/checksum';
import { SignatureV4 } from '@smithy/signature-v4';
import { transformSync } from 'esbuild';
import type { ImageStatus, UploadTicket } from '../control-api/contract.ts';
import * as client from './index.ts';
import { buildUrl, readPublicPolicy, sizes, srcset } from './index.ts';

/**
 * docs/SDK.md's examples, run: each line `call(...); // → 'result'` in a code
 * block is evaluated with the page's example policy and must give that result.
 * Blocks after `<!-- sdk-example-run -->` (the API client's) run whole, in page order,
 * as one async function, against a stand-in of the API and S3 (below).
 */
const page = readFileSync(new URL('../docs/SDK.md', import.meta.url), 'utf8');

function examplePolicy() {
  const marker = page.indexOf('<!-- sdk-example-policy -->');
  const block = /```json\n([\s\S]*?)```/.exec(page.slice(marker));
  assert.ok(marker >= 0 && block, 'the page shows its example policy after <!-- sdk-example-policy -->');
  return readPublicPolicy(JSON.parse(block[1]!));
}

const blocks = [...page.matchAll(/(<!-- sdk-example-run -->\n)?```ts\n([\s\S]*?)```/g)].map((m) => ({ run: m[1] !== undefined, code: m[2]! }));
const CHECK = /^(.+?);\s*\/\/ → (.+)$/;

function examples(): { call: string; result: string }[] {
  return blocks
    .filter((block) => !block.run)
    .flatMap((block) =>
      block.code
        .split('\n')
        .map((line) => CHECK.exec(line))
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

// The stand-in of the API and S3 the run blocks talk to: it checks what a real one
// would refuse (an unsigned or wrongly signed request, a form out of order), and
// answers as the contract says. The API itself is tested on the twin.
const API = 'https://api.images.example.com';
const BUCKET = 'https://pictor-originals.s3.eu-west-1.amazonaws.com/';
const credentials = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
const file = new Blob([new Uint8Array(2048).fill(0xd8)], { type: 'image/jpeg' });

/** Whether the request carries a SigV4 signature of these credentials over what arrived. */
async function isSigned(request: Request): Promise<boolean> {
  const authorization = request.headers.get('authorization');
  const date = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/.exec(request.headers.get('x-amz-date') ?? '');
  if (!authorization || !date) return false;
  const url = new URL(request.url);
  const headers = Object.fromEntries(request.headers);
  delete headers.authorization;
  const again = await new SignatureV4({ service: 'execute-api', region: 'eu-west-1', credentials, sha256: Sha256Js }).sign(
    { method: request.method, protocol: url.protocol, hostname: url.hostname, path: url.pathname, query: {}, headers: { ...headers, host: url.host }, body: await request.clone().text() },
    { signingDate: new Date(Date.UTC(+date[1]!, +date[2]! - 1, +date[3]!, +date[4]!, +date[5]!, +date[6]!)) },
  );
  return again.headers.authorization === authorization && /SignedHeaders=[^,]*\bhost\b/.test(authorization);
}

function standIn(policy: unknown) {
  const answer = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  let issued: UploadTicket | undefined;
  let stored: { at: string } | undefined;
  const seen: string[] = [];
  const fetch = async (request: Request): Promise<Response> => {
    seen.push(`${request.method} ${request.url}`);
    if (request.url === BUCKET && request.method === 'POST') {
      const form = [...(await request.formData()).entries()];
      const fields = Object.entries(issued!.upload.fields);
      assert.deepEqual(form.slice(0, -1), fields, 'the ticket\'s fields first, in order');
      assert.equal(form.at(-1)![0], 'file', 'the file last');
      stored = { at: new Date().toISOString() };
      return new Response(null, { status: 204 });
    }
    // Unsigned, as Route 53 probes it: the region that answered, which the client signs for.
    if (request.method === 'GET' && request.url === API + '/v1/health') return answer(200, { status: 'ok', region: 'eu-west-1' });
    if (!request.url.startsWith(API + '/') || !(await isSigned(request))) return answer(403, { message: 'Forbidden' });
    const path = new URL(request.url).pathname;
    if (request.method === 'POST' && path === '/v1/tenants/shop/uploads') {
      const body = (await request.json()) as { imageId: string; contentType: string };
      issued = {
        tenant: 'shop',
        imageId: body.imageId,
        key: 'shop/' + body.imageId,
        upload: {
          method: 'POST',
          url: BUCKET,
          fields: { key: 'shop/' + body.imageId, 'Content-Type': body.contentType, bucket: 'pictor-originals', 'X-Amz-Algorithm': 'AWS4-HMAC-SHA256', 'X-Amz-Credential': 'ASIA/20261202/eu-west-1/s3/aws4_request', 'X-Amz-Date': '20261202T071500Z', Policy: 'eyJ9', 'X-Amz-Signature': '0f' },
          contentType: body.contentType,
          minBytes: 1,
          maxBytes: 10485760,
          expiresAt: new Date(Date.now() + 900000).toISOString(),
        },
        status: '/v1/tenants/shop/images/' + body.imageId,
      };
      return answer(201, issued);
    }
    if (request.method === 'GET' && path === '/v1/tenants/shop/images/sku-42') {
      const status: ImageStatus = {
        tenant: 'shop',
        imageId: 'sku-42',
        state: stored ? 'published' : 'pending',
        version: stored ? 1 : 0,
        publishedVersions: stored ? [1] : [],
        urls: stored ? { versioned: 'https://images.example.com/img/shop/sku-42/v1', unversioned: 'https://images.example.com/img/shop/sku-42' } : null,
        variants: [],
        lastExecution: stored ? { executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:RenderOnUpload:1', status: 'SUCCEEDED', startedAt: stored.at, stoppedAt: stored.at, outcome: 'published' } : null,
      };
      return answer(200, status);
    }
    if (request.method === 'GET' && path === '/v1/tenants/shop/policy') return answer(200, policy);
    return answer(404, { message: 'Not Found' });
  };
  return { fetch, seen };
}

/** The run blocks as one async function: imports hoisted (each name once), each `x; // → y` line a check. */
function runBlocks(): { source: string; checks: string[] } {
  const imports = new Map<string, Set<string>>();
  const checks: string[] = [];
  const body = blocks
    .filter((block) => block.run)
    .map((block) =>
      block.code
        .split('\n')
        .map((line) => {
          const imported = /^import \{ ([^}]+) \} from '([^']+)';$/.exec(line);
          if (imported) {
            const names = imports.get(imported[2]!) ?? new Set<string>();
            for (const name of imported[1]!.split(',')) names.add(name.trim());
            imports.set(imported[2]!, names);
            return '';
          }
          const check = CHECK.exec(line);
          if (!check) return line;
          checks.push(check[1]!);
          return `__check(${JSON.stringify(check[1])}, await (${check[1]}), (${check[2]}));`;
        })
        .join('\n'),
    )
    .join('\n');
  const header = [...imports].map(([module, names]) => `const { ${[...names].join(', ')} } = __modules[${JSON.stringify(module)}];`).join('\n');
  const { code } = transformSync(`async function __run(__modules, __check, file, credentials) {\n${header}\n${body}\n}`, { loader: 'ts' });
  return { source: code, checks };
}

describe("docs/SDK.md's API client blocks", () => {
  it('run in page order against a stand-in of the API and S3, and each result is the one the page gives', async () => {
    const { source, checks } = runBlocks();
    assert.ok(checks.length >= 8, `${checks.length} checks`);
    const { fetch, seen } = standIn(examplePolicy());
    const ran: string[] = [];
    const check = (call: string, actual: unknown, expected: unknown) => {
      ran.push(call);
      assert.deepEqual(actual, expected, call);
    };
    const modules = { 'pictor/client': client, '@smithy/signature-v4': { SignatureV4 }, '@aws-crypto/sha256-js': { Sha256: Sha256Js } };
    const run = new Function(`${source}\nreturn __run;`)() as (...args: unknown[]) => Promise<void>;
    const global = globalThis as { fetch: typeof globalThis.fetch };
    const original = global.fetch;
    global.fetch = fetch as typeof globalThis.fetch;
    try {
      await run(modules, check, file, credentials);
    } finally {
      global.fetch = original;
    }
    assert.deepEqual(ran, checks, 'every check ran');
    // The upload went to S3 once, signed requests to the API did the rest.
    assert.equal(seen.filter((s) => s === `POST ${BUCKET}`).length, 1);
    assert.ok(seen.includes(`POST ${API}/v1/tenants/shop/uploads`), seen.join('\n'));
    assert.equal(seen[0], `GET ${API}/v1/health`, 'the region asked first');
  });
});
