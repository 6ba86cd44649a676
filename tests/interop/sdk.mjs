// The official npm `alipay-sdk`, pinned, as installed by setup.sh: one loader for the oracle
// scripts of this folder.

import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** The version every interop script is written against. */
export const WANT_VERSION = '4.14.0';

/**
 * Checks the `alipay-sdk` under `installDir/node_modules` and returns its version and a `load`
 * function that imports one module of its ESM build (`load('alipay.js')`). Exits with status 2
 * when another version is installed.
 */
export function openSdk(installDir) {
  const pkgDir = path.join(installDir, 'node_modules', 'alipay-sdk');
  const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
  if (pkg.version !== WANT_VERSION) {
    process.stderr.write(`alipay-sdk ${pkg.version} found, ${WANT_VERSION} expected\n`);
    process.exit(2);
  }
  const dist = path.join(pkgDir, 'dist', 'esm');
  return { version: pkg.version, load: file => import(pathToFileURL(path.join(dist, file)).href) };
}
