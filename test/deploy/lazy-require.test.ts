// build/lazy-require.mjs: the listed top-level require()s of Fastify become proxies that load their module
// on first use, the installed Fastify still has exactly those statements, and the bundled token-exchange
// function starts (and answers) without loading them.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
// @ts-expect-error -- plain ESM build script without type declarations
import { bundleAll } from '../../build/bundle.mjs'
// @ts-expect-error -- plain ESM build script without type declarations
import { LAZY_REQUIRES, lazyRequires } from '../../build/lazy-require.mjs'
import { formatTokenKeys, generateTokenKey } from '../../shared/credentials/token-keys.ts'

const scratch = mkdtempSync(join(tmpdir(), 'oidc-sts-lazy-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

describe('lazyRequires', () => {
  it('loads a listed module on the first property access only, once', () => {
    const loads: string[] = []
    const fakeRequire = (id: string) => {
      loads.push(id)
      return { twice: (n: number) => 2 * n }
    }
    const source = "'use strict'\nconst math = require('math')\nmodule.exports = (n) => math.twice(n)\n"
    const module = { exports: undefined as unknown as (n: number) => number }
    new Function('require', 'module', lazyRequires(source, { math: 'math' }))(fakeRequire, module)
    expect(loads).toEqual([])
    expect(module.exports(2)).toBe(4)
    expect(module.exports(3)).toBe(6)
    expect(loads).toEqual(['math'])
  })

  it('fails the build when a statement is missing or appears twice (a dependency changed)', () => {
    expect(() => lazyRequires("const other = require('x')\n", { math: 'math' }, 'f.js')).toThrow(/exactly one `const math = require\('math'\)` in f\.js/)
    expect(() => lazyRequires("const math = require('math')\nconst math = require('math')\n", { math: 'math' })).toThrow(/exactly one/)
  })

  it('finds every listed statement in the installed Fastify', () => {
    const require = createRequire(import.meta.url)
    const files = { server: require.resolve('fastify/lib/server.js'), pluginUtils: require.resolve('fastify/lib/plugin-utils.js') }
    for (const { file, names } of LAZY_REQUIRES as Array<{ file: RegExp; names: Record<string, string> }>) {
      const path = Object.values(files).find((f) => file.test(f))
      expect(path, String(file)).toBeDefined()
      expect(() => lazyRequires(readFileSync(path!, 'utf8'), names, path)).not.toThrow()
    }
  })
})

describe('the bundled token-exchange function', () => {
  it('starts and answers without loading node:http2, node:os or semver', async () => {
    const bundle = (await bundleAll(process.cwd(), ['tokenExchange'], join(scratch, 'build'))).tokenExchange
    const probe = join(scratch, 'probe.mjs')
    writeFileSync(
      probe,
      [
        "const { handler } = await import(process.env.BUNDLE)",
        "const res = await handler({ version: '2.0', routeKey: '$default', rawPath: '/health', rawQueryString: '', headers: { host: 'sts.example.com' }, requestContext: { http: { method: 'GET', path: '/health', sourceIp: '203.0.113.10' }, requestId: 'r', stage: '$default' }, isBase64Encoded: false }, { awsRequestId: 'r', getRemainingTimeInMillis: () => 30000 })",
        "process.stdout.write(JSON.stringify({ status: res.statusCode, builtins: process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13)) }))",
        'process.exit(0)',
      ].join('\n'),
    )
    // NODE_DEBUG=semver: semver's module body logs each regular expression it compiles (SEMVER ...) on stderr.
    const env = { ...process.env, NODE_DEBUG: 'semver', BUNDLE: bundle, TOKEN_KEYS: formatTokenKeys([generateTokenKey()]), TABLE_NAME: 'unused', DYNAMODB_ENDPOINT: 'http://127.0.0.1:9', LOG_LEVEL: 'silent' }
    const run = spawnSync(process.execPath, [probe], { env, encoding: 'utf8', timeout: 60_000 })
    expect(run.status, run.stderr).toBe(0)
    const out = JSON.parse(run.stdout) as { status: number; builtins: string[] }
    expect(out.status).toBe(200)
    expect(out.builtins).toContain('http')
    expect(out.builtins).not.toContain('http2')
    expect(out.builtins).not.toContain('os')
    expect(run.stderr).not.toContain('SEMVER')
  }, 60_000)
})
