// The whole journey through the built addon, from CommonJS: connect SQLite in a temporary
// directory, tenant, share with its root, ingest a real directory's inventory, plan and commit,
// run the workers, rehydrate, page the audit trail and resume it from a cursor.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { connect, RuleSet, Plan } = require('..')
const { fixture, collect } = require('./helpers.cjs')

test('the whole journey on SQLite', async (t) => {
  const fx = fixture()
  t.after(fx.cleanup)
  const alto = await connect(`sqlite://${path.join(fx.dir, 'alto.db')}`)
  assert.equal(alto.backend, 'sqlite')

  const tenant = await alto.createTenant('acme', { plannedRetentionDays: 30 })
  assert.equal(tenant.name, 'acme')
  const share = await tenant.createShare('media', { root: fx.share })
  assert.deepEqual([share.name, share.kind, share.caseSensitive, share.root], ['media', 'posix', true, fx.share])
  assert.deepEqual((await tenant.shares()).map((s) => s.name), ['media'])

  const ingested = await tenant.ingest('media', fx.inventory, { fullScan: true })
  assert.equal(ingested.accepted, 2)
  assert.equal(ingested.rejected, 0)
  assert.equal(ingested.new, 2)

  const files = await collect(tenant.files())
  assert.deepEqual(files.map((f) => f.path).sort(), [fx.note, fx.old].sort())
  const old = files.find((f) => f.path === fx.old)
  assert.equal(old.size, 256 * 1024)
  assert.equal(typeof old.size, 'number')
  assert.ok(old.modified instanceof Date)
  assert.ok(Date.now() - old.modified.getTime() > 399 * 86400 * 1000)
  assert.equal(old.state, undefined)

  const rules = RuleSet.fromToml(fx.rules)
  const dry = await tenant.plan(rules)
  assert.ok(dry instanceof Plan)
  assert.equal(dry.filesMatched, 1)
  assert.equal(dry.committed, null)
  const now = new Date(Math.floor(Date.now() / 1000) * 1000)
  const plan = await tenant.plan(rules, { commit: true, now })
  assert.equal(plan.now.getTime(), now.getTime())
  assert.equal(plan.filesScanned, 2)
  assert.equal(plan.filesMatched, 1)
  assert.equal(plan.bytesMatched, 256 * 1024)
  assert.deepEqual(plan.byRule.map((r) => [r.rule, r.files]), [['cold', 1]])
  assert.equal(plan.jobs.length, 1)
  assert.equal(plan.jobs[0].target, `file://${fx.tier2}/acme/`)
  assert.equal(plan.largest[0].path, fx.old)
  assert.equal(plan.committed.jobs, 1)
  assert.equal(plan.committed.planned, 1)
  const json = JSON.parse(JSON.stringify(plan))
  assert.equal(json.filesMatched, 1)
  assert.equal(json.now, now.toISOString())
  assert.deepEqual(Object.keys(json).sort(), [
    'byRule', 'bytesMatched', 'bytesSaved', 'committed', 'disabledRules', 'estimatedSeconds',
    'filesMatched', 'filesScanned', 'filesSkipped', 'jobs', 'largest', 'now', 'rowsRejected',
    'unmatchedRules',
  ])

  const queued = await collect(tenant.jobs({ state: 'queued' }))
  assert.equal(queued.length, 1)
  assert.equal(queued[0].rule, 'cold')
  assert.ok(queued[0].created instanceof Date)

  const run = await alto.runWorkers({ tenant: 'acme' })
  assert.deepEqual([run.jobs, run.stubbed, run.failed], [1, 1, 0], JSON.stringify(run))
  assert.equal(run.bytes, 256 * 1024)
  assert.ok(fs.statSync(fx.old).size < 256 * 1024, 'the old video is a stub now')
  const stubbed = await collect(tenant.files({ state: 'STUBBED' }))
  assert.deepEqual(stubbed.map((f) => f.path), [fx.old])
  assert.deepEqual((await collect(tenant.jobs())).map((j) => j.state), ['done'])

  const back = await tenant.rehydrate('media', fx.old)
  assert.equal(back.rehydrated, 1)
  assert.equal(back.bytes, 256 * 1024)
  assert.equal(fs.statSync(fx.old).size, 256 * 1024)
  assert.ok(fs.readFileSync(fx.old).every((b) => b === 7))

  // The audit trail, two events per page; stop after three and resume from the cursor.
  const all = await collect(tenant.audit())
  assert.ok(all.length >= 4, `audit: ${all.map((e) => e.kind)}`)
  assert.ok(all.every((e) => e.at instanceof Date))
  assert.ok(all.some((e) => e.kind === 'tier.stub'), all.map((e) => e.kind).join(','))
  const first = tenant.audit({ pageSize: 2 })
  assert.equal(first.cursor, null)
  const head = await collect(first, 3)
  const cursor = first.cursor
  assert.equal(typeof cursor, 'string')
  const rest = tenant.audit({ after: cursor, pageSize: 2 })
  assert.equal(rest.cursor, cursor)
  const tail = await collect(rest)
  assert.deepEqual([...head, ...tail].map((e) => e.id), all.map((e) => e.id))

  // Tenants and a second connection see the same store.
  const again = await connect(`sqlite://${path.join(fx.dir, 'alto.db')}`)
  assert.deepEqual((await again.tenants()).map((t) => t.name), ['acme'])
  assert.equal((await again.tenant('acme')).name, 'acme')
})

test('applyEvents takes an agents batch and counts bad updates', async (t) => {
  const fx = fixture()
  t.after(fx.cleanup)
  const alto = await connect('memory://')
  const tenant = await alto.createTenant('acme')
  await tenant.ingest('media', fx.inventory)
  const report = await tenant.applyEvents('media', {
    update_batch_id: 'b-1',
    updates: [
      { file_path: fx.note, last_accessed: '2031-01-01T00:00:00Z', access_type: 'read' },
      { last_accessed: '2031-01-01T00:00:00Z' },
    ],
  })
  assert.equal(report.read, 2)
  assert.equal(report.malformed, 1)
})

test('planInventory plans a file off the event loop', async () => {
  const fx = fixture()
  try {
    const rules = RuleSet.fromToml(fx.rules)
    const plan = await planInventoryOf(rules, fx.inventory)
    assert.equal(plan.filesScanned, 2)
    assert.equal(plan.filesMatched, 1)
    assert.equal(plan.rowsRejected, 0)
    assert.equal(plan.jobs[0].target, `file://${fx.tier2}/default/`)
  } finally {
    fx.cleanup()
  }
})

function planInventoryOf(rules, file) {
  return require('..').planInventory(rules, file, { now: new Date() })
}
