// Post-processing of a bundle: esbuild wraps each CommonJS module (Fastify and its dependencies) in
// `__commonJS((exports, module) => { ...module body... })`. V8 preparses that arrow while compiling the
// bundle, then parses it again in full when the module is first required: every CommonJS module on a
// cold start is parsed twice. Rewritten as a parenthesised function expression,
// `__commonJS((function(exports, module) { ... }))`, V8 compiles it once, eagerly (its long-standing
// "PIFE" heuristic, Node 20 and 22 alike): ~15 ms less on the token-exchange cold start (BENCHMARKS.md).
// Module bodies use neither `this` nor `arguments` of the wrapper, so the two forms behave alike.
import * as acorn from 'acorn'
import { simple } from 'acorn-walk'

/** The identifier esbuild gave __commonJS in `code`: defined there, or imported from a chunk that defines it. */
function helperNames(ast, code, chunkHelpers) {
  const names = new Set()
  simple(ast, {
    VariableDeclarator(n) {
      if (n.init?.type === 'ArrowFunctionExpression' && /\(\w+=\{exports:\{\}\}\)\.exports/.test(code.slice(n.init.start, n.init.end))) names.add(n.id.name)
    },
    ImportDeclaration(n) {
      const exported = chunkHelpers.get(n.source.value.replace(/^.*\//, ''))
      if (exported) for (const s of n.specifiers) if (s.type === 'ImportSpecifier' && exported.has(s.imported.name)) names.add(s.local.name)
    },
  })
  return names
}

/** Names under which a chunk exports its __commonJS helper (for the files importing it). */
export function exportedHelpers(code) {
  const ast = acorn.parse(code, { ecmaVersion: 'latest', sourceType: 'module' })
  const local = helperNames(ast, code, new Map())
  const out = new Set()
  simple(ast, { ExportNamedDeclaration(n) { for (const s of n.specifiers) if (local.has(s.local.name)) out.add(s.exported.name) } })
  return out
}

/** `code` with every `helper((e, t) => { body })` call rewritten to `helper((function (e, t) { body }))`. */
export function eagerCommonJs(code, chunkHelpers = new Map()) {
  const ast = acorn.parse(code, { ecmaVersion: 'latest', sourceType: 'module' })
  const helpers = helperNames(ast, code, chunkHelpers)
  const edits = []
  simple(ast, {
    CallExpression(n) {
      const f = n.arguments[0]
      if (n.callee.type !== 'Identifier' || !helpers.has(n.callee.name) || n.arguments.length !== 1) return
      if (f.type !== 'ArrowFunctionExpression' || f.body.type !== 'BlockStatement' || f.async || !f.params.every((p) => p.type === 'Identifier')) return
      edits.push({ start: f.start, end: f.body.start, text: `(function(${f.params.map((p) => p.name).join(',')})` }, { start: f.end, end: f.end, text: ')' })
    },
  })
  edits.sort((a, b) => b.start - a.start)
  let out = code
  for (const e of edits) out = out.slice(0, e.start) + e.text + out.slice(e.end)
  return { code: out, wrappers: edits.length / 2 }
}
