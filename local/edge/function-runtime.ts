import { createHash, createHmac } from 'node:crypto';
import vm from 'node:vm';
import type { CfFunctionEvent, CfFunctionRequest, CfFunctionResponse } from '../../edge-fallback/viewer-request/cf-function-event.ts';

/**
 * Runs the built CloudFront Function file in a vm context shaped like the
 * cloudfront-js-2.0 runtime: no require, process or timers; `cloudfront` and
 * `crypto` are the only modules, and the KeyValueStore is a live map (changing
 * it is a KeyValueStore update). No emulator for CloudFront Functions exists.
 */
export class ViewerFunctionRuntime {
  private readonly handler: (event: CfFunctionEvent) => Promise<CfFunctionRequest | CfFunctionResponse>;

  constructor(code: string, readonly store: Map<string, string> = new Map()) {
    const modules = {
      cloudfront: {
        kvs: () => ({
          get: async (key: string) => {
            const value = store.get(key);
            // Documented: get() rejects when the key does not exist.
            if (value === undefined) throw new Error(`Key ${key} not found`);
            return value;
          },
          exists: async (key: string) => store.has(key),
        }),
      },
      crypto: { createHash: createHash, createHmac: createHmac },
    };
    const context = vm.createContext({ __modules: modules, console: { log: (message: unknown) => void message } });
    const script = code.replace(/^import (\w+) from '(cloudfront|crypto)';$/gm, 'const $1 = __modules.$2;');
    new vm.Script(script, { filename: 'cloudfront-function.js' }).runInContext(context);
    this.handler = context.handler;
    if (typeof this.handler !== 'function') throw new Error('The viewer function defines no handler.');
  }

  run(event: CfFunctionEvent): Promise<CfFunctionRequest | CfFunctionResponse> {
    return this.handler(event);
  }
}

export function isFunctionResponse(result: CfFunctionRequest | CfFunctionResponse): result is CfFunctionResponse {
  return typeof (result as CfFunctionResponse).statusCode === 'number';
}
