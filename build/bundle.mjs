// Bundles each Lambda entry in functions/ with esbuild into .build/<name>/index.mjs plus .build/<name>/chunks/
// (one bundle per function, ESM, minified, node22 target, code splitting: what is only import()ed is
// read and compiled only when loaded; BENCHMARKS.md "Cold start"). Used by the serverless plugin (serverless-bundle-plugin.cjs),
// by the tests that run the bundles as Lambda would, and by benchmarks.
import { build } from 'esbuild'
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { eagerCommonJs, exportedHelpers } from './eager-cjs.mjs'
import { lazyRequire } from './lazy-require.mjs'

export const FUNCTIONS = {
  management: 'functions/management.ts',
  tokenExchange: 'functions/token-exchange.ts',
  thumbprintCheck: 'functions/thumbprint-check.ts',
  keyRefresh: 'functions/key-refresh.ts',
  auditWriter: 'functions/audit-writer.ts',
}

// Modules Fastify require()s only for features these apps switch off: the ajv and fast-json-stringify
// compilers (buildApp supplies its own compilersFactory: no route has a JSON schema) and pino
// (logger: false). esbuild bundles every require() it can see, so without this V8 would parse ~30 % of
// the bundle (ajv, fast-json-stringify, fast-uri, pino, sonic-boom, thread-stream...) on every cold
// start for code that never runs. Each is replaced by a module that throws if it is ever loaded.
const NEVER_LOADED = [
  { filter: /^@fastify\/ajv-compiler$/, why: 'JSON schema validation (buildApp: routes carry no schemas)' },
  { filter: /^@fastify\/fast-json-stringify-compiler$/, why: 'JSON schema serialization (buildApp: routes carry no schemas)' },
  { filter: /^\.\/logger-pino\.js$/, importer: /[\\/]fastify[\\/]lib[\\/]/, why: "Fastify's pino logger (buildApp: logger false)" },
]
export const neverLoaded = {
  name: 'never-loaded',
  setup(b) {
    for (const [i, m] of NEVER_LOADED.entries()) {
      b.onResolve({ filter: m.filter }, (args) => (m.importer && !m.importer.test(args.importer) ? undefined : { path: String(i), namespace: 'never-loaded' }))
    }
    b.onLoad({ filter: /.*/, namespace: 'never-loaded' }, (args) => {
      const m = NEVER_LOADED[Number(args.path)]
      return { contents: `throw new Error(${JSON.stringify(`bundle: ${m.filter} (${m.why}) is left out of the bundle (build/bundle.mjs NEVER_LOADED)`)})`, loader: 'js' }
    })
  },
}

/** Bundles `names` into `<outRoot>/<name>/index.mjs` (outRoot: `.build`; tests use a directory of their own). */
export async function bundleAll(root = process.cwd(), names = Object.keys(FUNCTIONS), outRoot = join(root, '.build')) {
  const results = {}
  for (const name of names) {
    if (!(name in FUNCTIONS)) throw new Error(`unknown function ${name}; known: ${Object.keys(FUNCTIONS).join(', ')}`)
    const outdir = join(outRoot, name)
    await rm(outdir, { recursive: true, force: true })
    await mkdir(outdir, { recursive: true })
    const result = await build({
      absWorkingDir: root,
      entryPoints: { index: FUNCTIONS[name] },
      // Code splitting: what is only import()ed (the SSM client without TOKEN_KEYS_PARAMETER, the AWS
      // SDK's credential providers other than the one in use) goes to chunks/ and is read and compiled
      // only if it is loaded. The entry is index.mjs; chunks/ must be deployed next to it.
      splitting: true,
      outdir,
      chunkNames: 'chunks/[name]-[hash]',
      outExtension: { '.js': '.mjs' },
      plugins: [neverLoaded, lazyRequire],
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
    await eagerCommonJsModules(outdir)
    await writeFile(join(outdir, 'meta.json'), JSON.stringify(result.metafile))
    results[name] = join(outdir, 'index.mjs')
  }
  return results
}

/** eager-cjs.mjs over index.mjs and its chunks (the chunk defining __commonJS first, for the names it exports). */
async function eagerCommonJsModules(outdir) {
  const chunkDir = join(outdir, 'chunks')
  const files = [join(outdir, 'index.mjs'), ...(await readdir(chunkDir).catch(() => [])).map((f) => join(chunkDir, f))]
  const code = new Map(await Promise.all(files.map(async (f) => [f, await readFile(f, 'utf8')])))
  const chunkHelpers = new Map()
  for (const [f, c] of code) if (f.startsWith(chunkDir) && c.includes('exports:{}}).exports')) chunkHelpers.set(basename(f), exportedHelpers(c))
  for (const [f, c] of code) {
    const { code: out, wrappers } = eagerCommonJs(c, chunkHelpers)
    if (wrappers > 0) await writeFile(f, out)
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = await bundleAll()
  for (const [name, file] of Object.entries(out)) console.log(`${name}: ${file}`)
}
