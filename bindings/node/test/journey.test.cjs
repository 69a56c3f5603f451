// The built addon from CommonJS: the whole journey (test/helpers.cjs) on SQLite in a temporary
// directory, the audit trail's filters and actor, access-event batches, and a dry run over an
// inventory file.
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { connect, RuleSet } = require('..')
const { fixture, journey, auditFilters } = require('./helpers.cjs')

test('the whole journey on SQLite', async (t) => {
  const fx = fixture()
  t.after(fx.cleanup)
  await journey(`sqlite://${path.join(fx.dir, 'alto.db')}`, 'sqlite', fx)
})

test('audit filters, the job chain and the actor on SQLite', async (t) => {
  const fx = fixture()
  t.after(fx.cleanup)
  await auditFilters(`sqlite://${path.join(fx.dir, 'alto.db')}`, fx.dir, undefined)
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
