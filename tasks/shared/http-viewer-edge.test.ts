import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { httpViewerEdge } from './http-viewer-edge.ts';

/** An edge that answers each path as a distribution can: Pictor's JSON errors, S3's XML, an image, a redirect. */
const server = createServer((request, response) => {
  const answers: Record<string, [number, string]> = {
    '/gone': [404, 'application/json'],
    '/s3-refused': [403, 'application/xml'],
    '/signature': [403, 'application/json'],
    '/served': [200, 'image/webp'],
    '/moved': [301, 'text/html'],
  };
  const [status, type] = answers[request.url ?? ''] ?? [500, 'text/plain'];
  response.writeHead(status, { 'content-type': type, ...(status === 301 ? { location: '/gone' } : {}) }).end('body');
});
let url: string;

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('the viewer edge over HTTP', () => {
  it("tells S3's own refusals, passed on by the edge, from Pictor's answers", async () => {
    const edge = httpViewerEdge(url);
    assert.deepEqual(await edge.status('/gone'), { status: 404 });
    assert.deepEqual(await edge.status('/s3-refused'), { status: 403, fromStorage: true });
    assert.deepEqual(await edge.status('/signature'), { status: 403 });
    assert.deepEqual(await edge.status('/served'), { status: 200 });
    // A redirect is an answer, not followed to a 404.
    assert.deepEqual(await edge.status('/moved'), { status: 301 });
  });

  it('is OriginUnavailable when nothing answers', async () => {
    await assert.rejects(httpViewerEdge('http://127.0.0.1:1').status('/x'), { name: 'OriginUnavailable' });
  });
});
