// Builds the addon with node-gyp against the headers of the Node that runs this script.
// node-gyp otherwise downloads headers, which fails on machines without internet access;
// a Node installed from a distribution package or an official tarball ships them under
// <prefix>/include/node, so we point node-gyp there when they exist.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const prefix = path.dirname(path.dirname(process.execPath));
const args = [require.resolve('node-gyp/bin/node-gyp.js'), 'rebuild'];
if (!process.env.npm_config_nodedir && existsSync(path.join(prefix, 'include', 'node', 'node.h'))) {
  args.push(`--nodedir=${prefix}`);
}
const result = spawnSync(process.execPath, args, { stdio: 'inherit', cwd: path.dirname(path.dirname(new URL(import.meta.url).pathname)) });
process.exit(result.status ?? 1);
