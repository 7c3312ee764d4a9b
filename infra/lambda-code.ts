import { dirname } from 'node:path';
import { AssetHashType, DockerImage } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { bundleHandler, type BundleOptions } from './bundle.ts';

/**
 * A Lambda deployment package bundled at synth time by the local esbuild: CDK's
 * local bundling hook, so neither Docker nor a prior build step is needed. The
 * asset hash is the bundle's, so a change in configuration is a new version.
 * https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.ILocalBundling.html
 */
export function bundledCode(entry: string, options: Pick<BundleOptions, 'define' | 'environment'> = {}): lambda.Code {
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
