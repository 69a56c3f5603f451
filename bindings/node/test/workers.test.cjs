// runWorkers with an AbortSignal: aborting stops a run in follow mode promptly, and the Promise
// resolves with the report of what was done (cancelling is not an error, as in Rust).
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { getEventListeners } = require('node:events')
const { connect, RuleSet } = require('..')
const { fixture, collect } = require('./helpers.cjs')

test('aborting the signal stops runWorkers in follow mode with the report so far', async (t) => {
  const fx = fixture()
  t.after(fx.cleanup)
  const alto = await connect(`sqlite://${path.join(fx.dir, 'alto.db')}`)
  const tenant = await alto.createTenant('acme')
  await tenant.createShare('media', { root: fx.share })
  await tenant.ingest('media', fx.inventory)
  await tenant.plan(RuleSet.fromToml(fx.rules), { commit: true })

  const ac = new AbortController()
  let settled = false
  const run = alto.runWorkers({ once: false, signal: ac.signal })
  run.finally(() => (settled = true)).catch(() => {})
  // The one job is done; the workers keep polling for more until aborted.
  for (let i = 0; i < 200; i++) {
    const jobs = await collect(tenant.jobs())
    if (jobs.length && jobs.every((j) => j.state === 'done')) break
    await new Promise((r) => setTimeout(r, 25))
  }
  await new Promise((r) => setTimeout(r, 200))
  assert.equal(settled, false, 'follow mode returned before the abort')
  assert.equal(getEventListeners(ac.signal, 'abort').length, 1)
  const aborted = Date.now()
  ac.abort()
  const report = await run
  // Well under the 5 s poll interval: the abort wakes the idle workers.
  assert.ok(Date.now() - aborted < 1000, `settled ${Date.now() - aborted} ms after the abort`)
  assert.deepEqual([report.jobs, report.stubbed, report.failed], [1, 1, 0], JSON.stringify(report))
  assert.equal(getEventListeners(ac.signal, 'abort').length, 0)
  // A finished run takes its listener off (a long-lived signal does not collect them).
  const again = new AbortController()
  for (let i = 0; i < 3; i++) await alto.runWorkers({ signal: again.signal })
  assert.equal(getEventListeners(again.signal, 'abort').length, 0)
})

test('an already aborted signal runs nothing; a signal that is not one rejects', async () => {
  const alto = await connect('memory://')
  await alto.createTenant('acme')
  const started = Date.now()
  const report = await alto.runWorkers({ once: false, signal: AbortSignal.abort() })
  assert.ok(Date.now() - started < 1000)
  assert.deepEqual([report.jobs, report.stubbed, report.bytes], [0, 0, 0])
  await assert.rejects(alto.runWorkers({ signal: {} }), (e) => e instanceof Error && e.code === 'InvalidInput')
})
