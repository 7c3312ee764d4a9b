import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { API_ROUTES, type ExecutionSummary, type ImageStatus, type UploadTicket } from '../control-api/contract.ts';
import { createApiClient, isPictorApiError, isPictorUrlError, uploadFile, type FetchLike, type PictorApiError } from './index.ts';

/**
 * Unit tests of the client's own logic: the requests it makes and what it makes of
 * the answers. The fetch here is a recording stand-in; the API and S3 themselves
 * are exercised end to end on the twin.
 */

const ticket: UploadTicket = {
  tenant: 'shop',
  imageId: 'sku-42',
  key: 'shop/sku-42',
  upload: {
    method: 'POST',
    url: 'https://originals.s3.eu-west-1.amazonaws.com/',
    // Not alphabetical, so that an order the client invents would show.
    fields: { key: 'shop/sku-42', 'Content-Type': 'image/jpeg', bucket: 'originals', 'X-Amz-Algorithm': 'AWS4-HMAC-SHA256', 'X-Amz-Credential': 'AKIA/20261202/eu-west-1/s3/aws4_request', 'X-Amz-Date': '20261202T071500Z', Policy: 'eyJ9', 'X-Amz-Signature': 'abc' },
    contentType: 'image/jpeg',
    minBytes: 1,
    maxBytes: 1000,
    expiresAt: '2026-12-02T07:30:00.000Z',
  },
  status: '/v1/tenants/shop/images/sku-42',
};

const jpeg = (bytes: number) => new Blob([new Uint8Array(bytes).fill(0xff)], { type: 'image/jpeg' });

interface Recorded {
  readonly method: string;
  readonly url: string;
  readonly headers: Headers;
  readonly body: string;
}

/** A fetch that records each request and answers with the next of `answers` (the last one repeats). */
function recordingFetch(...answers: (() => Response)[]): FetchLike & { requests: Request[] } {
  const requests: Request[] = [];
  const fetch = async (request: Request) => {
    requests.push(request);
    const answer = answers[Math.min(requests.length, answers.length) - 1];
    assert.ok(answer, 'no answer given for request ' + requests.length);
    return answer();
  };
  return Object.assign(fetch, { requests });
}

async function record(request: Request): Promise<Recorded> {
  return { method: request.method, url: request.url, headers: request.headers, body: await request.text() };
}

const json = (status: number, body: unknown) => () => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
const xml = (status: number, code: string, message: string) => () =>
  new Response(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>R1</RequestId><HostId>H1</HostId></Error>`, { status, headers: { 'content-type': 'application/xml' } });

/** Asserts that `promise` rejects with a PictorApiError of `code` and `status`, its message matching `message`. */
async function assertApiError(promise: Promise<unknown>, code: string, status: number | undefined, message: RegExp): Promise<PictorApiError> {
  let caught: unknown;
  await promise.then(
    () => assert.fail('expected ' + code),
    (error: unknown) => (caught = error),
  );
  assert.ok(isPictorApiError(caught), String(caught));
  assert.equal(caught.code, code);
  assert.equal(caught.status, status);
  assert.match(caught.message, message);
  return caught;
}

describe('uploadFile', () => {
  it("sends the ticket's fields first, in their order, then the file last, as `file`, to the ticket's URL", async () => {
    const fetch = recordingFetch(() => new Response(null, { status: 204 }));
    const file = jpeg(600);

    assert.deepEqual(await uploadFile(ticket, file, { fetch }), { key: 'shop/sku-42' });

    assert.equal(fetch.requests.length, 1);
    const request = fetch.requests[0]!;
    assert.equal(request.method, 'POST');
    assert.equal(request.url, ticket.upload.url);
    const form = [...(await request.formData()).entries()];
    assert.deepEqual(form.map(([name]) => name), [...Object.keys(ticket.upload.fields), 'file']);
    for (const [name, value] of form.slice(0, -1)) assert.equal(value, ticket.upload.fields[name]);
    const sent = form.at(-1)![1] as Blob;
    assert.equal(sent.type, 'image/jpeg');
    assert.deepEqual(new Uint8Array(await sent.arrayBuffer()), new Uint8Array(await file.arrayBuffer()));
  });

  it('resolves on the success statuses S3 may give (success_action_status 200, 201, or 204 by default)', async () => {
    for (const status of [200, 201, 204]) {
      const fetch = recordingFetch(() => new Response(status === 204 ? null : '', { status }));
      assert.deepEqual(await uploadFile(ticket, jpeg(10), { fetch }), { key: 'shop/sku-42' }, String(status));
    }
  });

  it('refuses, before any request, a file outside the ticket\'s size range, saying what to change', async () => {
    const fetch = recordingFetch(() => new Response(null, { status: 204 }));

    await assertApiError(uploadFile(ticket, jpeg(1001), { fetch }), 'FileTooLarge', undefined, /1001 bytes.*1 to 1000 bytes.*Make it smaller.*uploads\.maxBytes/);
    await assertApiError(uploadFile(ticket, jpeg(0), { fetch }), 'FileTooSmall', undefined, /0 bytes.*not empty/);
    // The bounds themselves are in range.
    await uploadFile(ticket, jpeg(1000), { fetch });
    await uploadFile(ticket, jpeg(1), { fetch });

    assert.equal(fetch.requests.length, 2);
  });

  it('refuses, before any request, a file of another type than the ticket\'s, or of none', async () => {
    const fetch = recordingFetch(() => new Response(null, { status: 204 }));

    await assertApiError(uploadFile(ticket, new Blob(['x'], { type: 'image/png' }), { fetch }), 'ContentTypeMismatch', undefined, /'image\/png'.*'image\/jpeg'.*contentType 'image\/png'/);
    await assertApiError(uploadFile(ticket, new Blob(['x']), { fetch }), 'ContentTypeMismatch', undefined, /^The file has no type, but this ticket is for 'image\/jpeg': give it its type \(new Blob\(\[file\], \{ type: 'image\/jpeg' \}\)/);

    assert.equal(fetch.requests.length, 0);
  });

  it("maps S3's XML error answers to its code, message and status", async () => {
    const cases = [
      { answer: xml(400, 'EntityTooLarge', 'Your proposed upload exceeds the maximum allowed size'), code: 'EntityTooLarge', status: 400, message: /^Your proposed upload exceeds the maximum allowed size$/ },
      { answer: xml(403, 'AccessDenied', 'Invalid according to Policy: Policy expired.'), code: 'AccessDenied', status: 403, message: /^Invalid according to Policy: Policy expired\.$/ },
      {
        answer: xml(403, 'AccessDenied', 'Invalid according to Policy: Policy Condition failed: [&quot;eq&quot;, &quot;$Content-Type&quot;, &quot;image/jpeg&quot;]'),
        code: 'AccessDenied',
        status: 403,
        message: /Condition failed: \["eq", "\$Content-Type", "image\/jpeg"\]$/,
      },
      { answer: xml(503, 'SlowDown', 'Please reduce your request rate.'), code: 'SlowDown', status: 503, message: /reduce your request rate/ },
      // Not S3's XML (a proxy's page): the status names it.
      { answer: () => new Response('<html>Bad gateway</html>', { status: 502 }), code: 'BadGateway', status: 502, message: /answered 502: <html>Bad gateway/ },
    ];
    for (const { answer, code, status, message } of cases) {
      await assertApiError(uploadFile(ticket, jpeg(10), { fetch: recordingFetch(answer) }), code, status, message);
    }
  });

  describe('with onProgress', () => {
    const global = globalThis as { XMLHttpRequest?: unknown };
    after(() => {
      delete global.XMLHttpRequest;
    });

    /** An XMLHttpRequest that reports the body's progress in two steps, then answers `status`. */
    function fakeXhr(status: number, responseText = '') {
      const sent: { method?: string; url?: string; body?: FormData } = {};
      class FakeXhr {
        status = 0;
        responseText = '';
        upload: { onprogress: ((event: { loaded: number; total: number; lengthComputable: boolean }) => void) | null } = { onprogress: null };
        onload: (() => void) | null = null;
        onerror: (() => void) | null = null;
        onabort: (() => void) | null = null;
        open(method: string, url: string) {
          sent.method = method;
          sent.url = url;
        }
        send(body: FormData) {
          sent.body = body;
          queueMicrotask(() => {
            this.upload.onprogress?.({ loaded: 500, total: 1000, lengthComputable: true });
            this.upload.onprogress?.({ loaded: 1000, total: 1000, lengthComputable: true });
            this.status = status;
            this.responseText = responseText;
            this.onload?.();
          });
        }
        abort() {
          this.onabort?.();
        }
      }
      return { FakeXhr, sent };
    }

    it('sends the same form through XMLHttpRequest and reports its progress', async () => {
      const { FakeXhr, sent } = fakeXhr(204);
      global.XMLHttpRequest = FakeXhr;
      const seen: { loaded: number; total: number }[] = [];

      assert.deepEqual(await uploadFile(ticket, jpeg(10), { onProgress: (p) => seen.push(p) }), { key: 'shop/sku-42' });

      assert.equal(sent.method, 'POST');
      assert.equal(sent.url, ticket.upload.url);
      assert.deepEqual([...sent.body!.keys()], [...Object.keys(ticket.upload.fields), 'file']);
      assert.deepEqual(seen, [
        { loaded: 500, total: 1000 },
        { loaded: 1000, total: 1000 },
      ]);
    });

    it("maps S3's XML errors there too", async () => {
      global.XMLHttpRequest = fakeXhr(400, '<Error><Code>EntityTooLarge</Code><Message>Your proposed upload exceeds the maximum allowed size</Message></Error>').FakeXhr;
      await assertApiError(uploadFile(ticket, jpeg(10), { onProgress: () => {} }), 'EntityTooLarge', 400, /exceeds the maximum/);
    });

    it('aborts the XMLHttpRequest when the signal aborts, and rejects with its reason; a network failure names CORS', async () => {
      let aborted = 0;
      class StalledXhr {
        status = 0;
        responseText = '';
        upload = { onprogress: null };
        onload: (() => void) | null = null;
        onerror: (() => void) | null = null;
        onabort: (() => void) | null = null;
        open() {}
        send() {}
        abort() {
          aborted += 1;
          this.onabort?.();
        }
      }
      global.XMLHttpRequest = StalledXhr;
      const controller = new AbortController();
      const upload = uploadFile(ticket, jpeg(10), { onProgress: () => {}, signal: controller.signal });
      controller.abort(new Error('the user cancelled'));
      await assert.rejects(upload, /the user cancelled/);
      assert.equal(aborted, 1);

      class FailingXhr extends StalledXhr {
        override send() {
          queueMicrotask(() => this.onerror?.());
        }
      }
      global.XMLHttpRequest = FailingXhr;
      await assert.rejects(uploadFile(ticket, jpeg(10), { onProgress: () => {} }), (error: unknown) => error instanceof TypeError && /failed before S3 answered.*CORS/.test(error.message));
    });

    it('refuses before sending where there is no XMLHttpRequest, rather than report no progress', async () => {
      delete global.XMLHttpRequest;
      await assertApiError(uploadFile(ticket, jpeg(10), { onProgress: () => {} }), 'ProgressUnavailable', undefined, /leave onProgress out/);
    });

    it('refuses onProgress with fetch: the fetch would not be used', async () => {
      const fetch = recordingFetch(() => new Response(null, { status: 204 }));
      await assertApiError(uploadFile(ticket, jpeg(10), { fetch, onProgress: () => {} }), 'InvalidParameter', undefined, /onProgress or fetch, not both/);
      assert.equal(fetch.requests.length, 0);
    });
  });
});

const execution = (status: ExecutionSummary['status'], startedAt = '2026-12-02T07:15:00.000Z'): ExecutionSummary => ({
  executionArn: 'arn:aws:states:eu-west-1:123456789012:execution:RenderOnUpload:' + status + startedAt,
  status,
  startedAt,
  ...(status === 'RUNNING' ? {} : { stoppedAt: '2026-12-02T07:15:09.000Z', outcome: 'published' }),
});

const image = (lastExecution: ExecutionSummary | null): ImageStatus => ({
  tenant: 'shop',
  imageId: 'sku-42',
  state: lastExecution?.status === 'SUCCEEDED' ? 'published' : 'pending',
  version: lastExecution?.status === 'SUCCEEDED' ? 1 : 0,
  publishedVersions: [],
  urls: null,
  variants: [],
  lastExecution,
});

const policy = { tenant: 'shop', breakpoints: [320, 640], qualities: [75], defaultQuality: 75, formats: ['webp', 'jpeg'], signed: false, maxSignedTtl: 3600 };

/** The route's path with its parameters filled in, as the contract declares it. */
const pathOf = (route: { path: string }, params: Record<string, string>) => route.path.replace(/\{(\w+)\}/g, (_, name: string) => params[name]!);

describe('createApiClient', () => {
  it("calls the contract's routes, with their methods, under baseUrl (a path prefix kept, a trailing slash dropped)", async () => {
    const fetch = recordingFetch(json(201, ticket), json(200, image(null)), json(200, policy), json(200, image(execution('SUCCEEDED'))));
    const api = createApiClient({ baseUrl: 'https://backend.example.com/pictor-api/', fetch });

    await api.createUpload('shop', { imageId: 'sku-42', contentType: 'image/jpeg', contentLength: 600 });
    await api.getImage('shop', 'sku-42');
    await api.getPolicy('shop');
    await api.waitForImage('shop', 'sku-42');

    const sent = await Promise.all(fetch.requests.map(record));
    const params = { tenant: 'shop', imageId: 'sku-42' };
    const routes = [API_ROUTES.createUpload, API_ROUTES.getImage, API_ROUTES.getPolicy, API_ROUTES.getImage];
    assert.deepEqual(
      sent.map((r) => `${r.method} ${r.url}`),
      routes.map((route) => `${route.method} https://backend.example.com/pictor-api${pathOf(route, params)}`),
    );
    assert.deepEqual(JSON.parse(sent[0]!.body), { imageId: 'sku-42', contentType: 'image/jpeg', contentLength: 600 });
    assert.equal(sent[0]!.headers.get('content-type'), 'application/json');
  });

  it('answers what the API answers, and a checked policy', async () => {
    const fetch = recordingFetch(json(201, ticket), json(200, image(null)), json(200, policy));
    const api = createApiClient({ baseUrl: 'https://api.example.com', fetch });

    assert.deepEqual(await api.createUpload('shop', { imageId: 'sku-42', contentType: 'image/jpeg' }), ticket);
    assert.deepEqual(await api.getImage('shop', 'sku-42'), image(null));
    assert.deepEqual(await api.getPolicy('shop'), policy);

    const leaky = createApiClient({ baseUrl: 'https://api.example.com', fetch: recordingFetch(json(200, { ...policy, keys: [{ kid: 'k1', secret: 's' }] })) });
    await assert.rejects(leaky.getPolicy('shop'), (error: unknown) => isPictorUrlError(error) && error.code === 'InvalidPolicy');
  });

  it('refuses a tenant or image id outside the grammar before any request, so nothing else reaches the path', async () => {
    const fetch = recordingFetch(json(200, image(null)));
    const api = createApiClient({ baseUrl: 'https://api.example.com', fetch });

    for (const tenant of ['Shop', 'sh', '../admin', 'shop/keys', 'shop%2Fkeys', '', 'shop?x=1']) {
      await assertApiError(api.getImage(tenant, 'sku-42'), 'InvalidParameter', undefined, /Expected a tenant id/);
      await assertApiError(api.getPolicy(tenant), 'InvalidParameter', undefined, /Expected a tenant id/);
    }
    for (const imageId of ['../keys', 'a/b', 'sku 42', 'sku.jpg', '-sku', '', 'é', 'x'.repeat(129)]) {
      await assertApiError(api.getImage('shop', imageId), 'InvalidParameter', undefined, /Expected an image id/);
      await assertApiError(api.createUpload('shop', { imageId, contentType: 'image/jpeg' }), 'InvalidParameter', undefined, /Expected an image id/);
      await assertApiError(api.waitForImage('shop', imageId), 'InvalidParameter', undefined, /Expected an image id/);
    }
    assert.equal(fetch.requests.length, 0);
  });

  it('refuses a baseUrl that is not one', () => {
    for (const baseUrl of ['', '/', 'https://api.example.com/?stage=x', 'https://api.example.com#x', undefined]) {
      assert.throws(
        () => createApiClient({ baseUrl: baseUrl as string }),
        (error: unknown) => isPictorApiError(error) && error.code === 'InvalidParameter' && /for baseUrl/.test(error.message),
        String(baseUrl),
      );
    }
  });

  it('calls the given fetch as a plain function, as a browser\'s fetch must be called', async () => {
    const thisOfCalls: unknown[] = [];
    const fetch = function (this: unknown) {
      thisOfCalls.push(this);
      return Promise.resolve(json(200, image(null))());
    };
    await createApiClient({ baseUrl: 'https://api.example.com', fetch }).getImage('shop', 'sku-42');
    assert.deepEqual(thisOfCalls, [undefined]);
  });

  it('applies the sign hook to every request, and sends what it returns', async () => {
    const fetch = recordingFetch(json(201, ticket), json(200, policy), json(200, image(execution('RUNNING'))), json(200, image(execution('SUCCEEDED'))));
    const signed: string[] = [];
    const sign = async (request: Request, { region }: { region: string }) => {
      // A signer hashes the body: it must be there to read.
      signed.push(`${region} ${request.method} ${new URL(request.url).pathname} ${await request.clone().text()}`);
      const headers = new Headers(request.headers);
      headers.set('authorization', 'AWS4-HMAC-SHA256 Credential=ASIA/...');
      return new Request(request, { headers });
    };
    const api = createApiClient({ baseUrl: 'https://x1.execute-api.eu-west-1.amazonaws.com', fetch, sign, region: 'eu-west-1' });

    await api.createUpload('shop', { imageId: 'sku-42', contentType: 'image/jpeg' });
    await api.getPolicy('shop');
    await api.waitForImage('shop', 'sku-42', { intervalMs: 1 });

    assert.equal(fetch.requests.length, 4);
    assert.deepEqual(
      fetch.requests.map((r) => r.headers.get('authorization')),
      Array(4).fill('AWS4-HMAC-SHA256 Credential=ASIA/...'),
    );
    assert.deepEqual(signed, [
      'eu-west-1 POST /v1/tenants/shop/uploads {"imageId":"sku-42","contentType":"image/jpeg"}',
      'eu-west-1 GET /v1/tenants/shop/policy ',
      'eu-west-1 GET /v1/tenants/shop/images/sku-42 ',
      'eu-west-1 GET /v1/tenants/shop/images/sku-42 ',
    ]);
  });

  describe('behind a latency-routed domain', () => {
    /** The domain: /v1/health names `answering.region`; a request signed for another region is refused as API Gateway refuses it. */
    function domain(answering: { region: string }) {
      const seen: string[] = [];
      const fetch = async (request: Request) => {
        const path = new URL(request.url).pathname;
        const scope = request.headers.get('x-signed-for');
        seen.push(`${path} ${scope ?? 'unsigned'}`);
        if (path === '/v1/health') return json(200, { status: 'ok', region: answering.region })();
        if (scope !== answering.region) return json(403, { message: 'Credential should be scoped to a valid region. ' })();
        return json(200, policy)();
      };
      const sign = async (request: Request, { region }: { region: string }) => {
        const headers = new Headers(request.headers);
        headers.set('x-signed-for', region);
        return new Request(request, { headers });
      };
      return { fetch, sign, seen };
    }

    it('asks /v1/health once, unsigned, and tells sign the region it names', async () => {
      const { fetch, sign, seen } = domain({ region: 'eu-west-1' });
      const api = createApiClient({ baseUrl: 'https://api.example.com', fetch, sign });
      await api.getPolicy('shop');
      await api.getPolicy('shop');
      assert.deepEqual(seen, ['/v1/health unsigned', '/v1/tenants/shop/policy eu-west-1', '/v1/tenants/shop/policy eu-west-1']);
    });

    it('asks again and sends once more when a failover moved the domain to another region', async () => {
      const answering = { region: 'eu-west-1' };
      const { fetch, sign, seen } = domain(answering);
      const api = createApiClient({ baseUrl: 'https://api.example.com', fetch, sign });
      await api.getPolicy('shop');
      answering.region = 'us-east-1';
      await api.getPolicy('shop');
      assert.deepEqual(seen.slice(2), ['/v1/tenants/shop/policy eu-west-1', '/v1/health unsigned', '/v1/tenants/shop/policy us-east-1']);
    });

    it('sends a refused request once more, not again and again', async () => {
      // Every health check names eu-west-1, but every signed request reaches us-east-1.
      const { sign } = domain({ region: 'eu-west-1' });
      const paths: string[] = [];
      const fetch = async (request: Request) => {
        paths.push(new URL(request.url).pathname);
        return paths.at(-1) === '/v1/health' ? json(200, { status: 'ok', region: 'eu-west-1' })() : json(403, { message: 'Credential should be scoped to a valid region. ' })();
      };
      const api = createApiClient({ baseUrl: 'https://api.example.com', fetch, sign });
      await assertApiError(api.getPolicy('shop'), 'Forbidden', 403, /scoped to a valid region/);
      assert.deepEqual(paths, ['/v1/health', '/v1/tenants/shop/policy', '/v1/health', '/v1/tenants/shop/policy']);
    });

    it('signs for the region option without asking, and does not resend: the caller chose it', async () => {
      const { fetch, sign, seen } = domain({ region: 'us-east-1' });
      const api = createApiClient({ baseUrl: 'https://api.example.com', fetch, sign, region: 'eu-west-1' });
      await assertApiError(api.getPolicy('shop'), 'Forbidden', 403, /scoped to a valid region\. : sign for the region that answers \(leave out the region option/);
      assert.deepEqual(seen, ['/v1/tenants/shop/policy eu-west-1']);
    });

    it('asks nothing without sign: a backend that signs answers for the region itself', async () => {
      const fetch = recordingFetch(json(200, policy));
      await createApiClient({ baseUrl: 'https://app.example.com/pictor-api', fetch }).getPolicy('shop');
      assert.deepEqual(fetch.requests.map((r) => new URL(r.url).pathname), ['/pictor-api/v1/tenants/shop/policy']);
    });

    it('says to give the region when /v1/health names none, and asks again next time', async () => {
      const { sign } = domain({ region: 'eu-west-1' });
      const fetch = recordingFetch(() => new Response('<html>gateway</html>', { status: 502 }), json(200, { status: 'ok', region: 'eu-west-1' }), json(200, policy));
      const api = createApiClient({ baseUrl: 'https://api.example.com', fetch, sign });
      await assertApiError(api.getPolicy('shop'), 'RegionUnknown', 502, /\/v1\/health answered 502 with no region to sign for: give the region option\.$/);
      await api.getPolicy('shop');
      assert.deepEqual(fetch.requests.map((r) => new URL(r.url).pathname), ['/v1/health', '/v1/health', '/v1/tenants/shop/policy']);
    });
  });

  it("throws the API's {code, message} with the HTTP status", async () => {
    const fetch = recordingFetch(json(400, { code: 'ContentTypeNotAllowed', message: "Tenant shop takes image/jpeg, image/png: declare one of them." }));
    const api = createApiClient({ baseUrl: 'https://api.example.com', fetch });
    await assertApiError(api.createUpload('shop', { imageId: 'sku-42', contentType: 'image/gif' }), 'ContentTypeNotAllowed', 400, /^Tenant shop takes image\/jpeg, image\/png: declare one of them\.$/);
  });

  it("gives API Gateway's own refusals, which carry no code, one from the status", async () => {
    const cases = [
      { answer: json(403, { message: 'Forbidden' }), code: 'Forbidden', status: 403, message: /^Forbidden: sign the request/ },
      { answer: json(401, { message: 'Unauthorized' }), code: 'Unauthorized', status: 401, message: /^Unauthorized: sign the request/ },
      { answer: json(404, { message: 'Not Found' }), code: 'NotFound', status: 404, message: /^Not Found$/ },
      { answer: json(429, { message: 'Too Many Requests' }), code: 'TooManyRequests', status: 429, message: /^Too Many Requests$/ },
      { answer: json(503, { message: 'Service Unavailable' }), code: 'ServiceUnavailable', status: 503, message: /^Service Unavailable$/ },
      { answer: () => new Response('<html>upstream down</html>', { status: 502 }), code: 'BadGateway', status: 502, message: /^<html>upstream down/ },
      { answer: () => new Response('', { status: 418 }), code: 'Http418', status: 418, message: /^HTTP 418$/ },
      // A success that is not JSON is no answer of the API's.
      { answer: () => new Response('<html>login</html>', { status: 200 }), code: 'InvalidResponse', status: 200, message: /^<html>login/ },
    ];
    for (const { answer, code, status, message } of cases) {
      const api = createApiClient({ baseUrl: 'https://api.example.com', fetch: recordingFetch(answer) });
      await assertApiError(api.getImage('shop', 'sku-42'), code, status, message);
    }
  });
});

describe('waitForImage', () => {
  const api = (fetch: FetchLike) => createApiClient({ baseUrl: 'https://api.example.com', fetch });

  it('stops as soon as the last execution has ended, and answers that status', async () => {
    const ended = image(execution('FAILED'));
    const fetch = recordingFetch(json(200, image(null)), json(200, image(execution('RUNNING'))), json(200, ended), () => assert.fail('read again after the end'));

    assert.deepEqual(await api(fetch).waitForImage('shop', 'sku-42', { intervalMs: 1 }), ended);
    assert.equal(fetch.requests.length, 3);
  });

  it("reads on while the API answers its own NotFound (the upload's execution not started yet), but not API Gateway's", async () => {
    const notYet = json(404, { code: 'NotFound', message: 'No image shop/sku-42: nothing was uploaded under that id, or not recently enough to be listed.' });
    const ended = image(execution('SUCCEEDED'));
    const fetch = recordingFetch(notYet, notYet, json(200, ended));
    assert.deepEqual(await api(fetch).waitForImage('shop', 'sku-42', { intervalMs: 1 }), ended);
    assert.equal(fetch.requests.length, 3);

    await assertApiError(api(recordingFetch(notYet)).waitForImage('shop', 'sku-42', { timeoutMs: 30, intervalMs: 5 }), 'WaitTimedOut', undefined, /within 30 ms \(the image is not found yet\)/);
    const noRoute = recordingFetch(json(404, { message: 'Not Found' }));
    await assertApiError(api(noRoute).waitForImage('shop', 'sku-42', { intervalMs: 1 }), 'NotFound', 404, /^Not Found$/);
    assert.equal(noRoute.requests.length, 1);
    // getImage itself answers the API's NotFound as an error.
    await assertApiError(api(recordingFetch(notYet)).getImage('shop', 'sku-42'), 'NotFound', 404, /^No image shop\/sku-42/);
  });

  it('with since, waits past an execution that started before it', async () => {
    const old = image(execution('SUCCEEDED', '2026-12-02T07:00:00.000Z'));
    const fresh = image(execution('SUCCEEDED', '2026-12-02T07:15:00.000Z'));
    const fetch = recordingFetch(json(200, old), json(200, old), json(200, fresh));

    assert.deepEqual(await api(fetch).waitForImage('shop', 'sku-42', { intervalMs: 1, since: '2026-12-02T07:10:00Z' }), fresh);
    assert.equal(fetch.requests.length, 3);
  });

  it('stops at the deadline with WaitTimedOut, naming what it last saw', async () => {
    const fetch = recordingFetch(json(200, image(execution('RUNNING'))));
    const started = Date.now();

    await assertApiError(api(fetch).waitForImage('shop', 'sku-42', { timeoutMs: 40, intervalMs: 5 }), 'WaitTimedOut', undefined, /shop\/sku-42: no execution ended within 40 ms \(the last one, started 2026-12-02T07:15:00.000Z, is RUNNING\)\. Follow it later with getImage/);

    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 35 && elapsed < 1000, `${elapsed} ms`);
    assert.ok(fetch.requests.length >= 2, `${fetch.requests.length} reads`);
  });

  it('stops at the deadline even while a request hangs, and aborts it', async () => {
    const signals: AbortSignal[] = [];
    const hanging: FetchLike = (request) => {
      signals.push(request.signal);
      return new Promise(() => {});
    };

    await assertApiError(api(hanging).waitForImage('shop', 'sku-42', { timeoutMs: 20 }), 'WaitTimedOut', undefined, /within 20 ms \(no status was read\)/);
    assert.equal(signals.length, 1);
    assert.equal(signals[0]!.aborted, true);
  });

  it("stops when the caller aborts, with the caller's reason", async () => {
    const controller = new AbortController();
    const fetch = recordingFetch(() => {
      controller.abort(new Error('the user left'));
      return json(200, image(execution('RUNNING')))();
    });
    await assert.rejects(api(fetch).waitForImage('shop', 'sku-42', { intervalMs: 10000, signal: controller.signal }), /the user left/);
    assert.equal(fetch.requests.length, 1);
  });

  it('has a deadline always: a timeout that is none is refused', async () => {
    const fetch = recordingFetch(json(200, image(null)));
    for (const timeoutMs of [0, -1, Infinity, Number.NaN, 2 ** 31]) {
      await assertApiError(api(fetch).waitForImage('shop', 'sku-42', { timeoutMs }), 'InvalidParameter', undefined, /for timeoutMs.*a wait always has a deadline/);
    }
    await assertApiError(api(fetch).waitForImage('shop', 'sku-42', { intervalMs: 0 }), 'InvalidParameter', undefined, /for intervalMs/);
    await assertApiError(api(fetch).waitForImage('shop', 'sku-42', { since: 'yesterday' }), 'InvalidParameter', undefined, /for since/);
    await assertApiError(api(fetch).waitForImage('shop', 'sku-42', { since: new Date('yesterday') }), 'InvalidParameter', undefined, /for since/);
    assert.equal(fetch.requests.length, 0);
  });
});
