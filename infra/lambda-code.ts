import { dirname } from 'node:path';
import { AssetHashType, DockerImage } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { IConstruct } from 'constructs';
import { bundleHandler, type BundleOptions } from './bundle.ts';

/**
 * A Lambda deployment package bundled at synth time by the local esbuild: CDK's
 * local bundling hook, so neither Docker nor a prior build step is needed. The
 * asset hash is the bundle's, so a change in configuration is a new version.
 * https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.ILocalBundling.html
 */
export function bundledCode(entry: string, options: Pick<BundleOptions, 'define' | 'environment' | 'sourceMap'> = {}): lambda.Code {
  return lambda.Code.fromAsset(dirname(entry), {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Never pulled: local bundling always succeeds or throws.
      image: DockerImage.fromRegistry('pictor/no-docker'),
      local: {
        tryBundle(outputDir) {
          bundleHandler({ ...options, entry, outDir: outputDir });
          return true;
        },
      },
    },
  });
}

/**
 * The CDK context key that ships each function's source map beside its bundle:
 * `cdk synth -c pictor:sourceMaps=true`. Off by default: a task's map is about
 * four times its code, and every byte is uploaded with each deploy.
 */
export const SOURCE_MAPS_CONTEXT = 'pictor:sourceMaps';

/** Whether the app asked for source maps (see SOURCE_MAPS_CONTEXT). */
export function sourceMapsWanted(scope: IConstruct): boolean {
  const value: unknown = scope.node.tryGetContext(SOURCE_MAPS_CONTEXT);
  return value === true || value === 'true';
}
