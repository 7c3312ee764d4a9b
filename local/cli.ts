import { parseArgs } from 'node:util';
import { policyOf } from '../core/tenant-config.ts';
import { parseImagePath } from '../core/image-path.ts';
import { signUrl } from '../edge-fallback/sign-url.ts';
import { loadTenants, readSettings } from './settings.ts';

const USAGE = `Usage: pictor <command>

Commands:
  sign <url> [--ttl seconds] [--kid id]   Sign /img/{tenant}/{id}?... with the tenant's newest key (or --kid)
                                          and print the full edge URL. --ttl defaults to 3600.`;

async function main(argv: string[]): Promise<string> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'sign':
      return sign(rest);
    case undefined:
    case '-h':
    case '--help':
      return USAGE;
    default:
      throw new Error(`Unknown command '${command}'.\n\n${USAGE}`);
  }
}

async function sign(args: string[]): Promise<string> {
  const { positionals, values } = parseArgs({ args, allowPositionals: true, options: { ttl: { type: 'string', default: '3600' }, kid: { type: 'string' } } });
  const url = positionals[0];
  if (!url || positionals.length > 1) throw new Error('sign takes one URL path, such as /img/demo-private/sample?w=320.');
  if (!/^\d+$/.test(values.ttl)) throw new Error(`--ttl must be a number of seconds, not '${values.ttl}'.`);
  const settings = readSettings();
  const config = await loadTenants(settings.tenantsFile);
  const path = parseImagePath(url.split('?')[0]!);
  if (!path.ok) throw new Error(path.message);
  const tenant = Object.hasOwn(config.tenants, path.path.tenant) ? config.tenants[path.path.tenant] : undefined;
  if (!tenant) throw new Error(`No tenant '${path.path.tenant}' in ${settings.tenantsFile}.`);
  const keys = Object.entries(tenant.signing.keys);
  const key = values.kid === undefined ? keys.at(-1) : keys.find(([kid]) => kid === values.kid);
  if (!key) throw new Error(values.kid ? `Tenant '${path.path.tenant}' has no key '${values.kid}'.` : `Tenant '${path.path.tenant}' has no signing keys.`);
  const signed = signUrl({ url, policy: policyOf(tenant), kid: key[0], secret: key[1], expiresAt: new Date(Date.now() + Number(values.ttl) * 1000) });
  return `http://127.0.0.1:${settings.edgePort}${signed}`;
}

main(process.argv.slice(2)).then(
  (output) => console.log(output),
  (error: unknown) => {
    console.error(`pictor: ${(error as Error).message}`);
    process.exit(1);
  },
);
