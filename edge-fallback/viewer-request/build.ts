import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSync } from 'esbuild';
import { findRuntimeViolations } from './runtime-check.ts';
import { PictorError } from '../../core/errors.ts';

/** The CloudFront Functions code-size quota (not adjustable). https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html#limits-functions */
export const FUNCTION_SIZE_QUOTA = 10 * 1024;

const here = dirname(fileURLToPath(import.meta.url));
/** `.ts` in the source tree, `.js` in the built package. */
export const MODULE_EXTENSION = extname(fileURLToPath(import.meta.url));
export const VIEWER_FUNCTION_PATH = join(here, '..', '..', 'dist', 'viewer-request.js');

/**
 * The handler CloudFront calls. Hand-written because it is the only async code:
 * it feeds the KeyValueStore values the bundled state machine asks for. A missing
 * key rejects `get`, which reads as "no value".
 * https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/functions-custom-methods.html
 */
const HANDLER = `
const kvs = cf.kvs();
function hmac(secret, data) {
  return crypto.createHmac('sha256', secret).update(data).digest('base64url');
}
async function read(key) {
  try {
    return await kvs.get(key);
  } catch (e) {
    return null;
  }
}
async function handler(event) {
  let step = pictor.start(event, Date.now());
  while (step.need !== undefined) step = pictor.resume(step, await read(step.need), hmac);
  return step.done;
}
`;

export interface ViewerFunctionBundle {
  readonly code: string;
  readonly bytes: number;
}

/**
 * Builds the viewer-request CloudFront Function from core/ into one file and
 * refuses a bundle that breaks the runtime's syntax or its size quota.
 * Synchronous, so that a CDK construct can build it while it synthesizes.
 */
export function buildViewerFunction(): ViewerFunctionBundle {
  return bundleCloudFrontFunction(join(here, `function-entry${MODULE_EXTENSION}`), HANDLER, 'The viewer function');
}

/**
 * One CloudFront Function file: `entry` bundled by esbuild as the global `pictor`,
 * then `handler` (hand-written, the only async code), held to cloudfront-js-2.0's
 * syntax and to the size quota. `name` says which function a refusal is about.
 */
export function bundleCloudFrontFunction(entry: string, handler: string, name: string): ViewerFunctionBundle {
  const result = buildSync({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'iife',
    target: 'es2017',
    // Lower what esbuild can and fail on what it cannot (classes, generators).
    supported: {
      'object-extensions': false,
      'destructuring': false,
      'default-argument': false,
      'for-of': false,
      'optional-chain': false,
      'nullish-coalescing': false,
      'optional-catch-binding': false,
      'logical-assignment': false,
      'object-rest-spread': false,
      'class': false,
      'generator': false,
    },
    minify: true,
    legalComments: 'none',
    charset: 'ascii',
    logLevel: 'silent',
  });
  const bundled = (result.outputFiles[0] as { text: string }).text;
  const code = "import cf from 'cloudfront';\nimport crypto from 'crypto';\nlet pictor;\n" + bundled + handler;
  const violations = findRuntimeViolations(code);
  if (violations.length > 0) {
    const list = violations.map((v) => `${v.message} at ${v.offset}: ${code.slice(v.offset, v.offset + 40)}`);
    throw new PictorError('InvalidConfig', `${name} uses syntax outside cloudfront-js-2.0:\n` + list.join('\n'));
  }
  const bytes = Buffer.byteLength(code);
  if (bytes > FUNCTION_SIZE_QUOTA) {
    throw new PictorError('InvalidConfig', `${name} is ${bytes} bytes; the quota is ${FUNCTION_SIZE_QUOTA}.`);
  }
  return { code: code, bytes: bytes };
}

/** Builds and writes dist/viewer-request.js, the file infra deploys and the twin runs. */
export async function writeViewerFunction(path = VIEWER_FUNCTION_PATH): Promise<ViewerFunctionBundle> {
  const bundle = buildViewerFunction();
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, bundle.code);
  return bundle;
}
