import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RerenderRequestedV1, TakedownRequestedV1 } from '../events/schemas/pictor-events.ts';
import { checkNumber, checkSeconds, checkWidths, parseCommand, refusal, UsageError, type CommandSpec } from './cli-args.ts';
import { COMMANDS, contentTypeOf, MissingCommand, readCommand, runCli } from './cli.ts';

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
      assert.ok('help' in help && help.help.startsWith(`usage: pictor ${COMMANDS[name as keyof typeof COMMANDS].usage}`), name);
      // The API's commands say where the API is and whom to act as; the twin's own do not.
      const twinOnly = name === 'retry' || name.startsWith('twin ');
      assert.equal((help as { help: string }).help.includes('--api URL'), !twinOnly, name);
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
  const env = { PICTOR_EDGE_PORT: '9', PICTOR_CONTROL_PORT: '9', PICTOR_API_PORT: '9', PICTOR_S3_PORT: '9', PICTOR_DYNAMODB_PORT: '9' };
  const code = await runCli(args, { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) }, env });
  return { code, stdout, stderr };
}

describe("the CLI's usage and its mistakes, before any twin is asked", () => {
  it("says it talks through the control-plane API, the twin's with no configuration, a deployment's with --api", () => {
    const usage = (readCommand(['--help']) as { help: string }).help;
    const header = usage.slice(0, usage.indexOf('Commands:'));
    assert.match(header, /control-plane API: the local twin's \(no configuration\)/);
    assert.match(header, /--api URL \(its ControlApiUrl output, or PICTOR_API_URL\)/);
    assert.match(header, /--role-arn ARN assumes a role/);
    assert.match(usage, /The local twin only \('npm start'/);
    assert.doesNotMatch(usage, /--store-arn|--requester/);
  });

  it('refuses the options the API replaced, in one line saying what to do instead, before anything is asked', async () => {
    for (const [args, message] of [
      [['takedown', '--tenant', 'shop', '--id', 'a', '--reason', 'gdpr', '--requester', 'dpo@example.com'], /^pictor: takedown no longer takes --requester: the API names the caller as the requester/],
      [['rerender', '--requester', 'me'], /^pictor: rerender no longer takes --requester: the API names the caller/],
      [['tenants', 'list', '--store-arn', 'arn:aws:cloudfront::1:key-value-store/x'], /^pictor: tenants list no longer takes --store-arn: the API reaches the deployment's tenant stores: give --api URL/],
      [['keys', 'rotate', '--tenant', 'shop', '--secrets-region', 'eu-west-1'], /^pictor: keys rotate no longer takes --secrets-region: /],
      [['sign', '/img/shop/a', '--kid', 'v1'], /^pictor: sign no longer takes --kid: the API signs with the tenant's newest key/],
    ] as const) {
      const result = await offline(...args);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
      assert.equal(result.stderr.split('\n').length, 2, `one line: ${result.stderr}`);
    }
  });

  it('answers an API it cannot reach with exit 1 naming where it looked; a URL that is no API, or a --region that is none, with exit 2', async () => {
    const unreachable = await offline('tenants', 'list');
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stderr, /^pictor: The twin's API at http:\/\/127\.0\.0\.1:9 did not answer \(is 'npm start' running\? PICTOR_API_PORT says where\)/);
    const notUrl = await offline('tenants', 'list', '--api', 'not a url');
    assert.deepEqual([notUrl.code, notUrl.stderr], [2, "pictor: --api must be the API's URL (the stack's ControlApiUrl output, https://{id}.execute-api.{region}.amazonaws.com/), not 'not a url'.\n"]);
    // A host that names no region is asked its region at /v1/health, which does not answer here.
    const custom = await offline('tenants', 'list', '--api', 'http://127.0.0.1:9/');
    assert.equal(custom.code, 1);
    assert.match(custom.stderr, /^pictor: The API at http:\/\/127\.0\.0\.1:9\/ did not answer: /);
    const region = await offline('tenants', 'list', '--api', 'https://api.images.example.com/', '--region', 'Ireland');
    assert.deepEqual([region.code, region.stderr], [2, "pictor: --region must be an AWS region such as eu-west-1, not 'Ireland'.\n"]);
  });

  it('takes status of an image or of a job, and says which when given neither or both', async () => {
    for (const [args, message] of [
      [['status'], /^pictor: status takes --tenant T --id X \(an image's\) or a job id/],
      [['status', '--id', 'x'], /^pictor: status --id needs --tenant T/],
      [['status', 'a-job', '--tenant', 'shop', '--id', 'x'], /^pictor: status takes a job id or --id, not both/],
      [['status', 'a', 'b'], /^pictor: status takes one job id/],
    ] as const) {
      const result = await offline(...args);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
    }
  });

  it("writes each command's own synopsis in the main usage", () => {
    const usage = (readCommand(['--help']) as { help: string }).help;
    for (const name of ['upload', 'url', 'sign', 'status', 'retry', 'rerender', 'takedown', 'tenants put', 'tenants policy', 'keys rotate'] as const) {
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

  it('tells the content type of an original from its first bytes, else its extension', () => {
    assert.equal(contentTypeOf('x.bin', Uint8Array.from([0xff, 0xd8, 0xff, 0xe0])), 'image/jpeg');
    assert.equal(contentTypeOf('x.jpg', Uint8Array.from(Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'))), 'image/png', 'the bytes win over the name');
    assert.equal(contentTypeOf('x', Buffer.from('RIFF\0\0\0\0WEBPVP8 ')), 'image/webp');
    assert.equal(contentTypeOf('x', Buffer.from('\0\0\0\x1cftypavif', 'latin1')), 'image/avif');
    assert.equal(contentTypeOf('x', Buffer.from('GIF89a')), 'image/gif');
    assert.equal(contentTypeOf('x', Buffer.from('MM\0*')), 'image/tiff');
    assert.equal(contentTypeOf('photo.JPEG', Buffer.from('??')), 'image/jpeg');
    assert.equal(contentTypeOf('notes.txt', Buffer.from('hello')), undefined);
  });

  it('answers a sign of something that is no image path with what to give, in one line', async () => {
    for (const target of ['https://images.example.com/logo.png', '/logo.png']) {
      const result = await offline('sign', target);
      assert.equal(result.code, 2, result.stderr);
      assert.equal(result.stderr, `pictor: '${target}' names no image: give its path, /img/{tenant}/{id}?w=320, or its full URL.\n`);
    }
  });
});
