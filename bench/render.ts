// Re-renders BENCHMARKS.md from bench/results.json (after a change to bench/report.ts), without
// running the benchmarks again: node --import tsx bench/render.ts [results.json] [BENCHMARKS.md]
import { readFileSync, writeFileSync } from 'node:fs'
import { type BenchResults, renderReport } from './report.ts'

const [from = 'bench/results.json', to = 'BENCHMARKS.md'] = process.argv.slice(2)
writeFileSync(to, renderReport(JSON.parse(readFileSync(from, 'utf8')) as BenchResults, { results: from, report: to }))
process.stderr.write(`wrote ${to} from ${from}\n`)
