// Benchmarks of the Node package (not tests; numbers go in the closing note):
//
//   node bindings/node/bench.mjs --alto target/release/alto --inventory bench-data/inv-1m.csv \
//     --rules examples/rules.toml [--now 2025-11-01T00:00:00Z] [--dashboard-rows 100000]
//     [--dashboard-only] [--dashboard path/to/another/dashboard.mjs]
//
// --dashboard-only skips part 1 (no --alto or --rules needed); --dashboard loads `start` from
// another version of the dashboard (one copied from an older commit, say), to compare.
// 1. planInventory through Node against the `alto plan` CLI on the same inventory, same run
//    (best of 3 each; the target is at most 1.2x the CLI's time).
// 2. examples/node/dashboard.mjs serving the first page of files (100 items) to 100 concurrent
//    keep-alive clients (a load generator in a child process): p50/p99 latency, and the
//    server's event-loop delay from perf_hooks while it serves.
// Build the addon with `npm run build:release` first: a debug addon measures the debug build.
import { execFileSync, spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { connect, planInventory, RuleSet } from './index.mjs'

const { values: a } = parseArgs({
  options: {
    alto: { type: 'string' },
    inventory: { type: 'string' },
    rules: { type: 'string' },
    now: { type: 'string', default: '2025-11-01T00:00:00Z' },
    'dashboard-rows': { type: 'string', default: '100000' },
    requests: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '100' },
    'dashboard-only': { type: 'boolean', default: false },
    dashboard: { type: 'string' },
  },
})
for (const k of a['dashboard-only'] ? ['inventory'] : ['alto', 'inventory', 'rules']) {
  if (!a[k]) throw new Error(`--${k} is required`)
}
const dashboard = a.dashboard ? pathToFileURL(path.resolve(a.dashboard)).href : '../../examples/node/dashboard.mjs'
const { start } = await import(dashboard)

const best = async (n, f) => {
  let min = Infinity
  for (let i = 0; i < n; i++) {
    const t0 = performance.now()
    await f()
    min = Math.min(min, performance.now() - t0)
  }
  return min / 1000
}

if (!a['dashboard-only']) {
  console.log('## planInventory through Node vs the alto plan CLI (best of 3)')
  const cli = await best(3, () =>
    execFileSync(a.alto, ['plan', '--quiet', '--rules', a.rules, '--inventory', a.inventory, '--now', a.now, '--format', 'json'], {
      stdio: ['ignore', 'ignore', 'inherit'],
      maxBuffer: 1 << 30,
    }),
  )
  const rules = RuleSet.fromFile(a.rules)
  let plan
  const viaNode = await best(3, async () => {
    plan = await planInventory(rules, a.inventory, { now: new Date(a.now) })
    JSON.stringify(plan, (_, v) => (typeof v === 'bigint' ? v.toString() : v))
  })
  console.log(`alto plan (CLI)          : ${cli.toFixed(2)} s`)
  console.log(`planInventory (Node)     : ${viaNode.toFixed(2)} s  (${plan.filesScanned} rows, ${plan.filesMatched} matched)`)
  console.log(`ratio                    : ${(viaNode / cli).toFixed(2)}x (target <= 1.20x)`)
}

console.log(`\n## ${a.dashboard ?? 'dashboard.mjs'}: first page of files under concurrent load`)
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alto-node-bench-'))
try {
  const rows = Number(a['dashboard-rows'])
  const lines = fs.readFileSync(a.inventory, 'utf8').split('\n')
  const slice = path.join(dir, 'slice.csv')
  fs.writeFileSync(slice, lines.slice(0, rows + 1).join('\n') + '\n')
  const url = `sqlite://${path.join(dir, 'alto.db')}`
  const alto = await connect(url)
  const tenant = await alto.createTenant('bench')
  const ing = await tenant.ingest('share', slice)
  console.log(`store: SQLite, ${ing.accepted} files`)
  const server = await start({ url, tenant: 'bench' })
  const port = server.address().port
  const loop = monitorEventLoopDelay({ resolution: 10 })
  loop.enable()
  const load = `
    const http = require('node:http')
    const agent = new http.Agent({ keepAlive: true, maxSockets: ${Number(a.concurrency)} })
    const total = ${Number(a.requests)}, lat = []
    let sent = 0
    function one(done) {
      if (sent >= total) return done()
      sent++
      const t0 = process.hrtime.bigint()
      http.get({ host: '127.0.0.1', port: ${port}, path: '/files?limit=100', agent }, (res) => {
        res.resume()
        res.on('end', () => { lat.push(Number(process.hrtime.bigint() - t0) / 1e6); one(done) })
      }).on('error', (e) => { console.error(e); process.exit(1) })
    }
    const t0 = Date.now()
    let left = ${Number(a.concurrency)}
    for (let i = 0; i < left; i++) one(() => { if (--left === 0) {
      lat.sort((x, y) => x - y)
      const q = (p) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))].toFixed(1)
      console.log(JSON.stringify({ requests: lat.length, seconds: (Date.now() - t0) / 1000, p50: q(0.5), p99: q(0.99), max: lat[lat.length - 1].toFixed(1) }))
      agent.destroy()
    } })`
  const out = await new Promise((resolve, reject) => {
    let text = ''
    const child = spawn(process.execPath, ['-e', load], { stdio: ['ignore', 'pipe', 'inherit'] })
    child.stdout.on('data', (d) => (text += d))
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(text)) : reject(new Error(`load generator: ${code}`))))
  })
  loop.disable()
  server.close()
  console.log(`${out.requests} requests, ${a.concurrency} concurrent, ${out.seconds} s: ${(out.requests / out.seconds).toFixed(0)} req/s`)
  console.log(`latency                  : p50 ${out.p50} ms, p99 ${out.p99} ms, max ${out.max} ms`)
  const ms = (ns) => (ns / 1e6).toFixed(1)
  console.log(`event-loop delay         : p50 ${ms(loop.percentile(50))} ms, p99 ${ms(loop.percentile(99))} ms, max ${ms(loop.max)} ms (resolution 10 ms)`)
} finally {
  fs.rmSync(dir, { recursive: true, force: true })
}
