#!/usr/bin/env node
/**
 * `npm install` here records only the @swc/core platform packages the registry mirror serves, and
 * `npm ci` then refuses the lock. This adds the missing platform entries (no tarball pin: each
 * platform fetches its own). Run after any `npm install` that changes package-lock.json.
 */
const fs = require('node:fs');
const file = require('node:path').join(__dirname, '..', 'package-lock.json');
const lock = JSON.parse(fs.readFileSync(file, 'utf8'));
const core = lock.packages['node_modules/@swc/core'];
if (core) {
  for (const dep of Object.keys(core.optionalDependencies ?? {})) {
    const key = `node_modules/${dep}`;
    if (lock.packages[key]) continue;
    const [, os, cpu] = /^@swc\/core-(\w+?)-(\w+?)(-|$)/.exec(dep) ?? [];
    lock.packages[key] = {
      version: core.version,
      cpu: [cpu],
      license: 'Apache-2.0 AND MIT',
      optional: true,
      os: [os],
      engines: { node: '>=10' },
    };
  }
  lock.packages = Object.fromEntries(
    Object.entries(lock.packages).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
  fs.writeFileSync(file, JSON.stringify(lock, null, 2) + '\n');
}
