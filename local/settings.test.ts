import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadTenants, readSettings, startupProblem, StartupError } from './settings.ts';

const SETTINGS = readSettings({ PICTOR_REGION_PORTS: 'us-east-1=4570,eu-west-1=4571' });
/** A listen error as node raises it. */
const taken = (port: number) => Object.assign(new Error(`listen EADDRINUSE: address already in use 127.0.0.1:${port}`), { code: 'EADDRINUSE', port, address: '127.0.0.1' });

describe("what stops the twin's start", () => {
  it('names the port that is taken and the setting that moves it', () => {
    assert.equal(
      startupProblem(taken(8081), SETTINGS),
      "Port 8081 on 127.0.0.1 is taken by another process: set PICTOR_CONTROL_PORT to a free port, or stop what listens there (an earlier 'npm start'?).",
    );
    assert.match(startupProblem(taken(4571), SETTINGS)!, /: give eu-west-1 a free port in PICTOR_REGION_PORTS \(now us-east-1=4570,eu-west-1=4571\),/);
    assert.match(startupProblem(taken(9999), SETTINGS)!, /: choose another port,/);
  });

  it('says what is wrong with a setting, and leaves any other error to be shown in full', () => {
    assert.throws(() => readSettings({ PICTOR_EDGE_PORT: 'abc' }), (e: Error) => startupProblem(e, undefined) === "PICTOR_EDGE_PORT must be a whole number, not 'abc'.");
    assert.equal(startupProblem(new TypeError('a bug'), SETTINGS), undefined);
    assert.equal(startupProblem(undefined, SETTINGS), undefined);
  });

  it("names the tenants file, and each tenant's field and what is wrong with it, in core's words", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pictor-settings-'));
    try {
      const file = join(dir, 'tenants.json');
      await writeFile(file, JSON.stringify({ tenants: { shop: { breakpoints: [320, 160] }, Bad: {} } }));
      const error = await loadTenants(file).then(() => assert.fail('accepted'), (e: unknown) => e);
      assert.ok(error instanceof StartupError);
      assert.doesNotMatch(error.message, /\n/);
      assert.match(error.message, new RegExp(`^The tenants file ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(PICTOR_TENANTS\\) is wrong: `));
      assert.match(error.message, /tenants\.shop\.breakpoints: breakpoints must be strictly ascending; tenants\.Bad: a tenant id is/);
      await writeFile(file, '{nope');
      await assert.rejects(loadTenants(file), (e: Error) => e instanceof StartupError && /^Cannot read the tenants file .* \(PICTOR_TENANTS\): /.test(e.message));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
