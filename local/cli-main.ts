#!/usr/bin/env node
import { runCli } from './cli.ts';

// The `npm run pictor` entry: local/cli.ts is the CLI, run here against this process's io.
// Clients are built after this line; the SDK's node-20 notice is noise in a CLI's output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
process.exitCode = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env });
