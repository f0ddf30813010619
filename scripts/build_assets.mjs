#!/usr/bin/env node
// Build PressFlow's front-end vendor assets into webapp/static/vendor/ (gitignored).
//
// Copies the prebuilt distributions of bpmn-js, dmn-js and echarts out of node_modules;
// bundles bpmn-js-bpmnlint plus a compiled `bpmnlint:recommended` configuration into one
// IIFE (bpmnlint-bundle.js) that sets `window.PressflowLint = { BpmnLintModule, lintConfig }`;
// and bundles bpmn-js-properties-panel with PressFlow's group (webapp/assets/
// pressflow-properties.mjs) into pressflow-properties-panel.js (`window.PressflowPropertiesPanel`).
//
// Idempotent and quick: a manifest (vendor/manifest.json) records a fingerprint of
// package-lock.json, this script and the panel source; when it matches and every file is present the
// build is skipped. `--force` rebuilds regardless. The new tree is built in a
// temporary directory and swapped in at the end, so a failed build never leaves a
// half-written vendor/ behind.
//
// Usage: node scripts/build_assets.mjs [--force]

import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const NODE_MODULES = path.join(ROOT, 'node_modules');
const VENDOR = path.join(ROOT, 'webapp', 'static', 'vendor');
const MANIFEST = 'manifest.json';
const FORCE = process.argv.includes('--force');

const require = createRequire(path.join(ROOT, 'package.json'));

// [source relative to node_modules, destination relative to vendor/, options]
const COPIES = [
  // bpmn-js: viewer + modeler UMD bundles and their stylesheets / icon font
  ['bpmn-js/dist/bpmn-navigated-viewer.production.min.js', 'bpmn-js/bpmn-navigated-viewer.production.min.js'],
  ['bpmn-js/dist/bpmn-modeler.production.min.js', 'bpmn-js/bpmn-modeler.production.min.js'],
  ['bpmn-js/dist/assets/diagram-js.css', 'bpmn-js/assets/diagram-js.css'],
  ['bpmn-js/dist/assets/bpmn-js.css', 'bpmn-js/assets/bpmn-js.css'],
  ['bpmn-js/dist/assets/bpmn-font/css/bpmn-embedded.css', 'bpmn-js/assets/bpmn-font/css/bpmn-embedded.css', { fonts: true }],

  // properties panel: the JS is bundled below together with PressFlow's group; the stylesheet comes from
  // @bpmn-io/properties-panel itself
  ['@bpmn-io/properties-panel/dist/assets/properties-panel.css', 'properties-panel/properties-panel.css'],

  // dmn-js: viewer + modeler UMD bundles and their stylesheets / icon font
  ['dmn-js/dist/dmn-viewer.production.min.js', 'dmn-js/dmn-viewer.production.min.js'],
  ['dmn-js/dist/dmn-navigated-viewer.production.min.js', 'dmn-js/dmn-navigated-viewer.production.min.js'],
  ['dmn-js/dist/dmn-modeler.production.min.js', 'dmn-js/dmn-modeler.production.min.js'],
  ['dmn-js/dist/assets/diagram-js.css', 'dmn-js/assets/diagram-js.css'],
  ['dmn-js/dist/assets/dmn-js-shared.css', 'dmn-js/assets/dmn-js-shared.css'],
  ['dmn-js/dist/assets/dmn-js-drd.css', 'dmn-js/assets/dmn-js-drd.css'],
  ['dmn-js/dist/assets/dmn-js-decision-table.css', 'dmn-js/assets/dmn-js-decision-table.css'],
  ['dmn-js/dist/assets/dmn-js-decision-table-controls.css', 'dmn-js/assets/dmn-js-decision-table-controls.css'],
  ['dmn-js/dist/assets/dmn-js-literal-expression.css', 'dmn-js/assets/dmn-js-literal-expression.css'],
  ['dmn-js/dist/assets/dmn-js-boxed-expression.css', 'dmn-js/assets/dmn-js-boxed-expression.css'],
  ['dmn-js/dist/assets/dmn-js-boxed-expression-controls.css', 'dmn-js/assets/dmn-js-boxed-expression-controls.css'],
  ['dmn-js/dist/assets/dmn-font/css/dmn-embedded.css', 'dmn-js/assets/dmn-font/css/dmn-embedded.css', { fonts: true }],

  // charts
  ['echarts/dist/echarts.min.js', 'echarts/echarts.min.js'],

  // lint overlay styles (the lint JS is bundled below)
  ['bpmn-js-bpmnlint/dist/assets/css/bpmn-js-bpmnlint.css', 'bpmnlint/bpmn-js-bpmnlint.css'],

  // the CJK font the printable approval sheet embeds in its PDF (webapp/pdf.py, static/css/sheet.css): the
  // simplified-Chinese subset of Noto Sans SC (ASCII included), regular and bold (SIL Open Font License, alongside)
  ...[400, 700].map((weight) => [
    `@fontsource/noto-sans-sc/files/noto-sans-sc-chinese-simplified-${weight}-normal.woff`,
    `fonts/noto-sans-sc/noto-sans-sc-chinese-simplified-${weight}-normal.woff`,
  ]),
  ['@fontsource/noto-sans-sc/LICENSE', 'fonts/noto-sans-sc/LICENSE'],
];

const PACKAGES = [
  'bpmn-js', 'bpmn-js-properties-panel', '@bpmn-io/properties-panel', 'dmn-js', 'echarts',
  'bpmnlint', 'bpmn-js-bpmnlint', 'diagram-js', 'esbuild', '@fontsource/noto-sans-sc',
];

const LINT_CONFIG = { extends: 'bpmnlint:recommended' };
const LINT_BUNDLE = 'bpmnlint-bundle.js';
// PressFlow's own properties-panel group (our source), bundled with bpmn-js-properties-panel and
// @bpmn-io/properties-panel so that both render with one preact
const PANEL_SOURCE = path.join(ROOT, 'webapp', 'assets', 'pressflow-properties.mjs');
const PANEL_BUNDLE = 'pressflow-properties-panel.js';

function log(msg) {
  process.stdout.write(`[build_assets] ${msg}\n`);
}

function fail(msg) {
  process.stderr.write(`[build_assets] ERROR: ${msg}\n`);
  process.exit(1);
}

function sha256(...parts) {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest('hex');
}

function packageVersion(name) {
  const pkgJson = path.join(NODE_MODULES, name, 'package.json');
  return JSON.parse(fs.readFileSync(pkgJson, 'utf8')).version;
}

function fingerprint() {
  const lockPath = path.join(ROOT, 'package-lock.json');
  const lock = fs.existsSync(lockPath) ? fs.readFileSync(lockPath) : Buffer.from('');
  const self = fs.readFileSync(fileURLToPath(import.meta.url));
  return sha256(lock, '\0', self, '\0', fs.readFileSync(PANEL_SOURCE));
}

function upToDate(fp) {
  const manifestPath = path.join(VENDOR, MANIFEST);
  if (!fs.existsSync(manifestPath)) return false;
  try {
    const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
    if (manifest.fingerprint !== fp) return false;
    return manifest.files.every((f) => fs.existsSync(path.join(VENDOR, f)));
  } catch {
    return false;
  }
}

// Copy the font files a stylesheet references through relative url(...)s, keeping the
// same relative layout next to the copied stylesheet.
function copyReferencedFiles(srcCss, dstCss, out) {
  const css = fs.readFileSync(srcCss, 'utf8');
  const refs = new Set();
  for (const m of css.matchAll(/url\(\s*(['"]?)([^'")]+)\1\s*\)/g)) {
    const ref = m[2].trim();
    if (/^(data:|https?:|\/\/|#)/.test(ref)) continue;
    refs.add(ref.replace(/[?#].*$/, ''));
  }
  for (const ref of refs) {
    const src = path.resolve(path.dirname(srcCss), ref);
    if (!fs.existsSync(src)) fail(`${path.relative(ROOT, srcCss)} references missing ${ref}`);
    const dst = path.resolve(path.dirname(dstCss), ref);
    fs.mkdirSync(path.dirname(dst), { recursive: true });
    fs.copyFileSync(src, dst);
    out.push(dst);
  }
}

async function main() {
  if (!fs.existsSync(NODE_MODULES)) fail('node_modules missing: run `npm ci` first');

  const fp = fingerprint();
  if (!FORCE && upToDate(fp)) {
    log(`up to date: ${path.relative(ROOT, VENDOR)}`);
    return;
  }

  const started = Date.now();
  let esbuild;
  try {
    esbuild = require('esbuild');
  } catch (err) {
    fail(`cannot load esbuild (${err.message}); run \`npm ci\``);
  }

  const tmp = `${VENDOR}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });

  try {
    const written = [];

    for (const [srcRel, dstRel, opts = {}] of COPIES) {
      const src = path.join(NODE_MODULES, srcRel);
      if (!fs.existsSync(src)) fail(`missing ${srcRel} (is node_modules current? run \`npm ci\`)`);
      const dst = path.join(tmp, dstRel);
      fs.mkdirSync(path.dirname(dst), { recursive: true });
      if (opts.minify) {
        // Minify without changing the module format (the UMD wrapper stays intact).
        const code = fs.readFileSync(src, 'utf8');
        const result = await esbuild.transform(code, { minify: true, target: 'es2019', legalComments: 'none' });
        fs.writeFileSync(dst, result.code);
      } else {
        fs.copyFileSync(src, dst);
      }
      written.push(dst);
      if (opts.fonts) copyReferencedFiles(src, dst, written);
    }

    // --- bpmnlint bundle -------------------------------------------------------------
    const compileConfig = require('bpmnlint/lib/support/compile-config');
    const compiledConfig = await compileConfig(LINT_CONFIG);

    const workDir = path.join(NODE_MODULES, '.cache', 'pressflow-assets');
    fs.mkdirSync(workDir, { recursive: true });
    const configFile = path.join(workDir, 'bpmnlint-config.mjs');
    fs.writeFileSync(configFile, compiledConfig);

    const entry = [
      "import BpmnLintModule from 'bpmn-js-bpmnlint';",
      `import lintConfig from ${JSON.stringify('./' + path.basename(configFile))};`,
      'window.PressflowLint = { BpmnLintModule, lintConfig };',
      '',
    ].join('\n');

    // One browser IIFE per bundle, minified, resolving packages from node_modules.
    const bundle = async (outName, input) => {
      const outfile = path.join(tmp, outName);
      await esbuild.build({
        ...input, bundle: true, format: 'iife', platform: 'browser', target: 'es2019', minify: true,
        legalComments: 'none', nodePaths: [NODE_MODULES], outfile, logLevel: 'warning',
      });
      written.push(outfile);
    };
    await bundle(LINT_BUNDLE, {
      stdin: { contents: entry, resolveDir: workDir, sourcefile: 'pressflow-lint-entry.mjs', loader: 'js' },
    });

    // --- properties panel with the PressFlow group ----------------------------------
    await bundle(PANEL_BUNDLE, { entryPoints: [PANEL_SOURCE] });

    // --- manifest --------------------------------------------------------------------
    const versions = Object.fromEntries(PACKAGES.map((p) => [p, packageVersion(p)]));
    const files = written.map((f) => path.relative(tmp, f).split(path.sep).join('/')).sort();
    const manifest = {
      fingerprint: fp,
      versions,
      lint: { global: 'PressflowLint', config: LINT_CONFIG },
      files,
    };
    fs.writeFileSync(path.join(tmp, MANIFEST), JSON.stringify(manifest, null, 2) + '\n');

    // Swap the finished tree into place.
    fs.rmSync(VENDOR, { recursive: true, force: true });
    fs.renameSync(tmp, VENDOR);

    const bytes = files.reduce((n, f) => n + fs.statSync(path.join(VENDOR, f)).size, 0);
    log(`wrote ${files.length} files (${(bytes / 1048576).toFixed(1)} MiB) to ` +
      `${path.relative(ROOT, VENDOR)} in ${Date.now() - started} ms`);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

main().catch((err) => fail(err && err.stack ? err.stack : String(err)));
