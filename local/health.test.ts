import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { controlPlane } from './aws-api.ts';
import type { InvalidationService } from './edge/invalidations.ts';
import { formatHealth, probeHealth, type HealthReport } from './health.ts';
import { TWIN_HEALTH_PATH } from './twin-names.ts';

describe("the twin's health", () => {
  it('is ok when every server answers, degraded under an injected fault, down when a server does not answer', async () => {
    const server = createServer((_request, response) => response.writeHead(404).end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const up = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // A port nothing listens on: bound, then released.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const gone = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));
    try {
      assert.equal((await probeHealth([{ name: 'edge', endpoint: up }])).status, 'ok');
      const degraded = await probeHealth([{ name: 'edge', endpoint: up }, { name: 'S3 us-east-1', endpoint: gone, fault: 'refuse' }]);
      assert.equal(degraded.status, 'degraded');
      assert.deepEqual(degraded.servers[1], { name: 'S3 us-east-1', endpoint: gone, up: false, fault: 'refuse' });
      const down = await probeHealth([{ name: 'edge', endpoint: up }, { name: 'DynamoDB', endpoint: gone }]);
      assert.equal(down.status, 'down');
      assert.deepEqual(down.servers[1], { name: 'DynamoDB', endpoint: gone, up: false, error: 'ECONNREFUSED' });
      assert.match(formatHealth(down), /^twin: down\nedge\s+up\s+http:\S+\nDynamoDB\s+DOWN \(ECONNREFUSED\)\s+http:/);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe("the twin's health endpoint", () => {
  it('answers GET with the report, HEAD with its status and no body, and other methods 405 with Allow', async () => {
    let report: HealthReport = { status: 'ok', servers: [{ name: 'edge', endpoint: 'http://127.0.0.1:1', up: true }] };
    const server = createServer(controlPlane({ invalidations: {} as InvalidationService, health: async () => report }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${TWIN_HEALTH_PATH}`;
    try {
      const got = await fetch(url);
      assert.equal(got.status, 200);
      assert.deepEqual(await got.json(), report);
      const head = await fetch(url, { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get('content-type'), got.headers.get('content-type'));
      assert.equal(await head.text(), '');
      for (const method of ['POST', 'PUT', 'DELETE']) {
        const refused = await fetch(url, { method });
        assert.equal(refused.status, 405, method);
        assert.equal(refused.headers.get('allow'), 'GET, HEAD');
        assert.match(((await refused.json()) as { message: string }).message, new RegExp(`takes GET or HEAD, not ${method}`));
      }
      report = { status: 'down', servers: [] };
      assert.equal((await fetch(url, { method: 'HEAD' })).status, 503);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
