// esbuild plugin: some of Fastify's top-level require()s serve only features a Lambda never uses, yet
// every cold start loads them. Each listed `const name = require('module')` becomes a proxy that
// requires the module on its first property access, so a cold start pays for it only if it is used:
// - fastify/lib/server.js: node:http2 (HTTP/2 servers) and node:os (listening on every interface),
//   ~6 ms on a cold start: the functions answer through inject() and never listen;
// - fastify/lib/plugin-utils.js: semver (checking a plugin's declared Fastify version; the apps
//   register no plugin that declares one), ~3 ms.
// Every listed statement must be found exactly once: a dependency update that changes one fails the
// build instead of silently loading the module again. Only namespace-style uses (`name.member(...)`)
// are safe this way; the listed bindings are used so and only so.
import { readFile } from 'node:fs/promises'

export const LAZY_REQUIRES = [
  { file: /[\\/]node_modules[\\/]fastify[\\/]lib[\\/]server\.js$/, names: { http2: 'node:http2', os: 'node:os' } },
  { file: /[\\/]node_modules[\\/]fastify[\\/]lib[\\/]plugin-utils\.js$/, names: { semver: 'semver' } },
]

/** `source` with each `const <name> = require('<module>')` of `names` made lazy. */
export function lazyRequires(source, names, file = '') {
  let out = source
  for (const [name, module] of Object.entries(names)) {
    const statement = `const ${name} = require('${module}')`
    const at = out.indexOf(statement)
    if (at < 0 || out.indexOf(statement, at + 1) >= 0) {
      throw new Error(`build/lazy-require.mjs: expected exactly one \`${statement}\` in ${file}; the dependency changed, review LAZY_REQUIRES`)
    }
    const lazy = `let ${name}$loaded; const ${name} = new Proxy({}, { get: (_, key) => (${name}$loaded ??= require('${module}'))[key] })`
    out = out.slice(0, at) + lazy + out.slice(at + statement.length)
  }
  return out
}

export const lazyRequire = {
  name: 'lazy-require',
  setup(b) {
    for (const { file, names } of LAZY_REQUIRES) {
      b.onLoad({ filter: file }, async (args) => ({ contents: lazyRequires(await readFile(args.path, 'utf8'), names, args.path), loader: 'js' }))
    }
  },
}
