#!/usr/bin/env node
'use strict';
// The `kiln` command. It runs the compiled CLI (dist/, made by `npm run build`, which `npm install`
// runs as the prepare script); in a checkout without dist/ it runs the TypeScript through tsx.
const path = require('node:path');
const fs = require('node:fs');

const root = path.join(__dirname, '..');
const compiled = path.join(root, 'dist', 'cli', 'main.js');

function load() {
  if (fs.existsSync(compiled)) return require(compiled);
  let register;
  try {
    ({ register } = require('tsx/cjs/api'));
  } catch {
    process.stderr.write(
      `kiln: the CLI is not built (no ${path.relative(process.cwd(), compiled) || compiled}) and tsx is not installed to run it from source.\n` +
        `Possible solutions:\n  - cd ${root} && npm run build\n  - cd ${root} && npm install (installs tsx and builds)\n`,
    );
    process.exit(1);
  }
  register();
  return require(path.join(root, 'src', 'cli', 'main.ts'));
}

load()
  .run(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
