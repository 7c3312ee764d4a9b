import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RerenderRequestedV1, TakedownRequestedV1 } from '../events/schemas/pictor-events.ts';
import { checkNumber, checkSeconds, checkWidths, parseCommand, refusal, UsageError, type CommandSpec } from './cli-args.ts';
import { COMMANDS, MissingCommand, readCommand, runCli } from './cli.ts';

const SIGN: CommandSpec = {
  usage: 'sign <url> [--ttl seconds] [--kid id]',
  positionals: { count: 1, what: 'one URL path' },
  options: { ttl: { type: 'string', default: '3600', placeholder: 'seconds', check: checkSeconds }, kid: { type: 'string', placeholder: 'id' }, sign: { type: 'boolean' } },
};
const TAKEDOWN: CommandSpec = {
  usage: 'takedown --id X [--id Y ...] --reason R',
  options: { id: { type: 'string', multiple: true, required: true, placeholder: 'X' }, reason: { type: 'string', required: true, placeholder: 'dmca|gdpr|other' } },
};

/** The one-line message a command line is refused with. */
function refused(spec: CommandSpec, args: string[]): string {
  try {
    parseCommand('cmd', spec, args);
  } catch (error) {
    assert.ok(error instanceof UsageError, String(error));
    assert.doesNotMatch(error.message, /\n/, 'one line');
    return error.message;
  }
  assert.fail(`accepted ${args.join(' ')}`);
}

describe('parseCommand', () => {
  it('reads values, defaults, repeated options and switches', () => {
    assert.deepEqual(parseCommand('sign', SIGN, ['/img/a/b', '--kid', 'k1', '--sign']), { values: { kid: 'k1', sign: true, ttl: '3600' }, positionals: ['/img/a/b'], help: false });
    assert.deepEqual(parseCommand('takedown', TAKEDOWN, ['--id', 'a', '--id=b', '--reason', 'gdpr']).values, { id: ['a', 'b'], reason: 'gdpr' });
    assert.equal(parseCommand('sign', SIGN, ['--ttl=-5', '-h']).help, true, 'help wins over anything else on the line');
  });

  for (const [args, message] of [
    [['/u', '--bogus'], /^cmd has no option --bogus; it takes --ttl, --kid, --sign \(usage: pictor sign <url>/],
    [['/u', '-x'], /^cmd has no option -x;/],
    [['/u', '--ttl', '-5'], /^--ttl takes a whole number of seconds above 0, such as 3600, not '-5'\.$/],
    [['/u', '--ttl=abc'], /^--ttl takes a whole number of seconds above 0, such as 3600, not 'abc'\.$/],
    [['/u', '--ttl', '0'], /^--ttl takes a whole number of seconds above 0/],
    [['/u', '--ttl'], /^--ttl needs seconds after it/],
    [['/u', '--sign=yes'], /^--sign is a switch and takes no value, not 'yes'/],
    [['/u', '--kid', 'a', '--kid', 'b'], /^--kid is given twice; give it once/],
    [[], /^cmd takes one URL path \(usage: pictor sign/],
    [['/u', '/v'], /^cmd takes one URL path, not '\/u \/v'/],
  ] as const) {
    it(`refuses ${JSON.stringify(args)} in one line saying what to write`, () => {
      assert.match(refused(SIGN, [...args]), message);
    });
  }

  it('names a required option that is missing, with what it takes', () => {
    assert.match(refused(TAKEDOWN, ['--id', 'a']), /^cmd needs --reason dmca\|gdpr\|other \(usage: pictor takedown/);
  });

  it('checks syntax only: numbers and lists', () => {
    assert.equal(checkWidths('320,640'), undefined);
    assert.ok(checkWidths('320,,640'));
    assert.ok(checkWidths('-320'));
    assert.equal(checkNumber('200'), undefined, 'the range is the schema\'s to refuse');
    assert.ok(checkNumber('abc'));
    assert.ok(checkNumber(''));
  });
});

describe('refusal', () => {
  it("names the option a schema issue came from, with the schema's own words", () => {
    const parsed = RerenderRequestedV1.safeParse({ schemaVersion: 1, requester: 'me', variants: { formats: ['gif'] } });
    assert.equal(parsed.success, false);
    const error = refusal(parsed.error!.issues, { 'variants.formats': '--formats' }, () => 'gif', '"Rerender Requested"');
    assert.match(error.message, /^--formats 'gif' is refused by the "Rerender Requested" schema: .*webp/);
  });

  it('maps an item of a list to its option', () => {
    const parsed = TakedownRequestedV1.safeParse({ schemaVersion: 1, items: [{ tenant: 'shop', imageId: 'a', reason: 'because', requester: 'x' }] });
    const error = refusal(parsed.error!.issues, { 'items.reason': '--reason', items: '--id' }, () => 'because', '"Takedown Requested"');
    assert.match(error.message, /^--reason 'because' is refused by the "Takedown Requested" schema: .*dmca/);
  });
});

describe("the CLI's command lines", () => {
  it('refuses an unknown command, or sub-command, naming the ones there are', () => {
    assert.throws(() => readCommand(['frobnicate']), (e: Error) => e instanceof UsageError && /^Unknown command 'frobnicate'; the commands are upload, url, sign, status, retry, rerender, takedown, twin, tenants, keys/.test(e.message));
    assert.throws(() => readCommand(['keys', 'burn']), (e: Error) => e instanceof UsageError && /^Unknown keys command 'burn'; it is one of rotate, retire, list/.test(e.message));
  });

  it('answers --help for the CLI, a group and each command', () => {
    assert.match((readCommand(['--help']) as { help: string }).help, /^Usage: pictor <command>/);
    assert.match((readCommand(['tenants', '--help']) as { help: string }).help, /^usage: pictor tenants put --file F/);
    assert.throws(() => readCommand([]), (e: Error) => e instanceof MissingCommand && /^Usage: pictor <command>/.test(e.message));
    assert.throws(() => readCommand(['tenants']), (e: Error) => e instanceof MissingCommand && /^usage: pictor tenants put --file F/.test(e.message));
    for (const name of Object.keys(COMMANDS)) {
      const help = readCommand([...name.split(' '), '--help']);
      assert.ok('help' in help && help.help === `usage: pictor ${COMMANDS[name as keyof typeof COMMANDS].usage}`, name);
    }
  });

  it('refuses an unknown option on every command', () => {
    for (const name of Object.keys(COMMANDS)) {
      assert.throws(() => readCommand([...name.split(' '), '--bogus']), (e: Error) => e instanceof UsageError && e.message.startsWith(`${name} has no option --bogus`), name);
    }
  });
});

/** Runs the CLI with no twin behind it: only what is refused before anything is asked of one can pass. */
async function offline(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  // Port 9 (discard): nothing answers there, so a command that reached for the twin would fail with 1.
  const env = { PICTOR_EDGE_PORT: '9', PICTOR_CONTROL_PORT: '9', PICTOR_S3_PORT: '9', PICTOR_DYNAMODB_PORT: '9' };
  const code = await runCli(args, { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) }, env });
  return { code, stdout, stderr };
}

describe("the CLI's usage and its mistakes, before any twin is asked", () => {
  it('says it talks to the local twin by default, and that tenants and keys reach a deployment with the flags at the bottom', () => {
    const usage = (readCommand(['--help']) as { help: string }).help;
    const header = usage.slice(0, usage.indexOf('Commands:'));
    assert.match(header, /local twin/);
    assert.match(header, /'npm start'/);
    assert.match(header, /tenants\s+and keys commands reach a deployment/);
    assert.match(usage, /Against a deployment instead of the twin, add --store-arn/);
  });

  it("writes each command's own synopsis in the main usage", () => {
    const usage = (readCommand(['--help']) as { help: string }).help;
    for (const name of ['upload', 'url', 'sign', 'status', 'retry', 'rerender', 'takedown'] as const) {
      assert.ok(usage.includes(`  ${COMMANDS[name].usage}`), `${name}: ${COMMANDS[name].usage}`);
    }
  });

  it('prints the usage on stderr with exit 2 when no command, or no sub-command, is named; --help is exit 0 on stdout', async () => {
    const none = await offline();
    assert.deepEqual([none.code, none.stdout], [2, '']);
    assert.match(none.stderr, /^Usage: pictor <command>\n/);
    const group = await offline('tenants');
    assert.deepEqual([group.code, group.stdout], [2, '']);
    assert.match(group.stderr, /^usage: pictor tenants put --file F/);
    const help = await offline('--help');
    assert.deepEqual([help.code, help.stderr], [0, '']);
    assert.match(help.stdout, /^Usage: pictor <command>\n/);
  });

  it('answers an input file it cannot read with exit 2, the same for upload and tenants put', async () => {
    for (const args of [
      ['upload', '/no/such/file.jpg', '--tenant', 'shop', '--id', 'x'],
      ['tenants', 'put', '--file', '/no/such/tenants.json'],
    ]) {
      const result = await offline(...args);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, /^pictor: Cannot read \/no\/such\/\S+: ENOENT[^\n]*\n$/);
    }
  });

  it('answers a sign of something that is no image path with what to give, in one line', async () => {
    for (const target of ['https://images.example.com/logo.png', '/logo.png']) {
      const result = await offline('sign', target);
      assert.equal(result.code, 2, result.stderr);
      assert.equal(result.stderr, `pictor: '${target}' names no image: give its path, /img/{tenant}/{id}?w=320, or its full URL.\n`);
    }
  });
});
