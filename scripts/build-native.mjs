#!/usr/bin/env node
// Builds the engine's native group backend (packages/frost/native, curve25519-dalek behind N-API) into
// packages/frost/native/frost_native.node. Without a Rust toolchain the engine falls back to libsodium
// (sodium-native): locally that is a warning, in CI (CI=true) an error.
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../packages/frost/native/', import.meta.url));
const out = `${dir}frost_native.node`;
const lib = `${dir}target/release/libfrost_native.so`;
if (process.platform !== 'linux') {
  console.warn(`build-native: ${process.platform} is not supported yet; the engine uses libsodium`);
  process.exit(0);
}
if (spawnSync('cargo', ['--version']).status !== 0) {
  const msg = 'build-native: cargo not found; the FROST engine will use the libsodium backend (install Rust for the faster native one)';
  if (process.env.CI === 'true') {
    console.error(msg);
    process.exit(1);
  }
  console.warn(`!!! ${msg} !!!`);
  process.exit(0);
}
execFileSync('cargo', ['build', '--release', '--quiet', '--locked'], { cwd: dir, stdio: 'inherit' });
if (!existsSync(out) || statSync(out).mtimeMs < statSync(lib).mtimeMs) copyFileSync(lib, out);
