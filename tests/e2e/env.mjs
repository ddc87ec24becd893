// What every end-to-end file needs from its surroundings: the variables `cargo xtask test`
// sets, and a headless Chromium launched the way TOOLCHAIN.md found to work here.

import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { chromium } from 'playwright-core';

/** The value of `name`, which `cargo xtask test` (or `cargo xtask e2e`) sets. */
export function required(name) {
  const value = process.env[name];
  assert.ok(value, `${name} is not set: run the end-to-end tests with \`cargo xtask test\``);
  return value;
}

/** Headless Chromium from $CHROMIUM, with the flags that work as root on this machine. */
export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Every file under `dir` (the local edge's state: its Durable Objects' SQLite files). */
export function filesUnder(dir) {
  const files = [];
  const walk = (folder) => {
    for (const name of readdirSync(folder)) {
      const path = join(folder, name);
      if (statSync(path).isDirectory()) walk(path);
      else files.push(path);
    }
  };
  walk(dir);
  return files;
}
