import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { startTwin, type Twin, type TwinOptions } from '../../local/twin.ts';

/** What a test file asks of its twin: the twin's options, less the scratch directory the fixture makes. */
export interface TwinFixtureOptions extends Omit<TwinOptions, 'dataDir'> {
  /** Runs once the twin is up, before the file's first test: what every test of the file reads and none changes. */
  readonly seed?: (twin: Twin, dir: string) => Promise<void>;
  /** Runs once the twin has closed: for what the twin's tasks reach through (fault proxies), which must outlive it. */
  readonly afterClose?: () => Promise<void>;
}

/** The twin a test file shares, and a scratch directory beside its data. */
export interface TwinFixture {
  /** The running twin; throws before the fixture has started it. */
  readonly twin: Twin;
  /**
   * Resolves with the twin once it is started and seeded. A file's own `before` hook awaits it:
   * node 20 runs a file's top-level `before` hooks at the same time, not one after another.
   */
  readonly started: Promise<Twin>;
  /** A scratch directory, removed with the twin. */
  readonly dir: string;
}

/**
 * The one way a test file starts its twin: registers `before` (a scratch directory,
 * the twin with `logLevel` SILENT unless given, then `seed`) and `after` (close, remove)
 * on the file, and returns the fixture. One twin per file, shared by its tests: each
 * test isolates itself by image ids (or a tenant) of its own, see `uniqueId`, rather
 * than relying on what an earlier test left.
 */
export function useTwin(options: TwinFixtureOptions): TwinFixture {
  let twin: Twin | undefined;
  let dir: string | undefined;
  const { seed, afterClose, ...twinOptions } = options;
  let ready!: (twin: Twin) => void;
  let failed!: (error: unknown) => void;
  const started = new Promise<Twin>((resolve, reject) => ((ready = resolve), (failed = reject)));
  // A start that fails is reported by the hook below; a file that never awaits `started` must not see it twice.
  started.catch(() => {});
  before(async () => {
    try {
      dir = await mkdtemp(join(tmpdir(), 'pictor-twin-'));
      twin = await startTwin({ logLevel: 'SILENT', ...twinOptions, dataDir: join(dir, 'data') });
      await seed?.(twin, dir);
      ready(twin);
    } catch (error) {
      failed(error);
      throw error;
    }
  });
  after(async () => {
    await twin?.close();
    await afterClose?.();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  return {
    started,
    get twin() {
      if (!twin) throw new Error('The twin is not running yet: await fixture.started in a hook, or read fixture.twin inside a test.');
      return twin;
    },
    get dir() {
      if (!dir) throw new Error('The fixture has no directory yet: await fixture.started first.');
      return dir;
    },
  };
}

/** An image id no other test uses (ids are 1 to 128 of A-Z a-z 0-9 _ -). */
export function uniqueId(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}
