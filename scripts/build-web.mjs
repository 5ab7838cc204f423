#!/usr/bin/env node
// Bundles the web viewer (web/) into dist/web: index.html, app.js, app.css. The bundle imports
// the library's decoders straight from src/ (esbuild resolves the `.js` specifiers to the `.ts`
// sources), so the browser runs the very code the CLI runs: one decoder, no second copy.
//
//   node scripts/build-web.mjs [outdir]        (default dist/web)

import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Build into `outdir` (default dist/web). Returns the output directory and the bundle's size.
 * @param {{ outdir?: string, minify?: boolean, sourcemap?: boolean }} [opts]
 * @returns {Promise<{ outdir: string, bytes: number }>}
 */
export async function buildWeb(opts = {}) {
  const { build } = await import('esbuild');
  const outdir = resolve(opts.outdir ?? join(ROOT, 'dist', 'web'));
  await mkdir(outdir, { recursive: true });
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [join(ROOT, 'web', 'main.ts')],
    outfile: join(outdir, 'app.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome109', 'firefox115', 'safari16'],
    minify: opts.minify ?? true,
    sourcemap: opts.sourcemap ?? true,
    legalComments: 'none',
    metafile: true,
    logLevel: 'silent',
  });
  const node = Object.keys(result.metafile.inputs).filter((p) => p.startsWith('node:'));
  if (node.length > 0)
    throw new Error(`the web bundle must not import node:* (${node.join(', ')})`);
  await copyFile(join(ROOT, 'web', 'index.html'), join(outdir, 'index.html'));
  await copyFile(join(ROOT, 'web', 'app.css'), join(outdir, 'app.css'));
  const bytes =
    result.metafile.outputs[Object.keys(result.metafile.outputs).find((p) => p.endsWith('app.js'))]
      ?.bytes ?? 0;
  return { outdir, bytes };
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = process.argv[2];
  buildWeb(out !== undefined ? { outdir: out } : {}).then(
    (r) =>
      process.stdout.write(`web viewer: ${r.outdir} (app.js ${(r.bytes / 1024).toFixed(0)} KiB)\n`),
    (e) => {
      process.stderr.write(`build-web: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
