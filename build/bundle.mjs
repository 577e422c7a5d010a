// Bundles each Lambda entry in functions/ with esbuild into .build/<name>/index.mjs (one bundle per
// function, ESM, minified, node22 target). Used by the serverless plugin (serverless-bundle-plugin.cjs),
// by the tests that run the bundles as Lambda would, and by benchmarks.
import { build } from 'esbuild'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

export const FUNCTIONS = {
  management: 'functions/management.ts',
  tokenExchange: 'functions/token-exchange.ts',
  thumbprintCheck: 'functions/thumbprint-check.ts',
  keyRefresh: 'functions/key-refresh.ts',
  auditWriter: 'functions/audit-writer.ts',
}

/** Bundles `names` into `<outRoot>/<name>/index.mjs` (outRoot: `.build`; tests use a directory of their own). */
export async function bundleAll(root = process.cwd(), names = Object.keys(FUNCTIONS), outRoot = join(root, '.build')) {
  const results = {}
  for (const name of names) {
    if (!(name in FUNCTIONS)) throw new Error(`unknown function ${name}; known: ${Object.keys(FUNCTIONS).join(', ')}`)
    const outdir = join(outRoot, name)
    await mkdir(outdir, { recursive: true })
    const result = await build({
      absWorkingDir: root,
      entryPoints: [FUNCTIONS[name]],
      outfile: join(outdir, 'index.mjs'),
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node22',
      // ESM builds first (the AWS SDK's dist-es): they tree-shake, so the bundles are ~20 % smaller and
      // a cold start parses less (BENCHMARKS.md). What AWS documents for esbuild-bundled Lambdas.
      mainFields: ['module', 'main'],
      minify: true,
      sourcemap: false,
      legalComments: 'none',
      metafile: true,
      // ESM bundles of CommonJS dependencies need a require() in scope.
      banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
      logLevel: 'warning',
    })
    await writeFile(join(outdir, 'meta.json'), JSON.stringify(result.metafile))
    results[name] = join(outdir, 'index.mjs')
  }
  return results
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = await bundleAll()
  for (const [name, file] of Object.entries(out)) console.log(`${name}: ${file}`)
}
