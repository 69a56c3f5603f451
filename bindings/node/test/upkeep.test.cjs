// A tenant's upkeep through the addon, on SQLite with a file:// tier: settings read back, the
// retention sweep (dry, then real), reconciliation of a lost object and of orphans, and reports
// (totals, by-state, the what-if, HTML and CSV).
const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { connect, Report, RuleSet } = require('..')
const { collect } = require('./helpers.cjs')

const KB = 1024
const DAY = 86400e3

// Two old videos (a and b, 400 days untouched) and a fresh note beneath a share root, their
// inventory, an empty tier-2 directory, and a tenant `acme` on SQLite that ingested them.
async function shelf(t, settings) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alto-node-upkeep-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  const share = path.join(dir, 'share')
  const tier2 = path.join(dir, 'tier2')
  fs.mkdirSync(share)
  fs.mkdirSync(tier2)
  const yearAgo = new Date(Math.floor(Date.now() / 1000 - 400 * 86400) * 1000)
  const files = {}
  const sizes = {}
  let csv = 'file_path,file_size,last_modified,last_accessed\n'
  for (const [name, size] of [['a.mov', 40 * KB], ['b.mov', 24 * KB], ['note.txt', 5]]) {
    const p = path.join(share, name)
    fs.writeFileSync(p, crypto.randomBytes(size))
    if (name.endsWith('.mov')) fs.utimesSync(p, yearAgo, yearAgo)
    const st = fs.statSync(p)
    csv += `${p},${st.size},${st.mtime.toISOString()},${st.atime.toISOString()}\n`
    files[name] = p
    sizes[name] = size
  }
  const inventory = path.join(dir, 'inventory.csv')
  fs.writeFileSync(inventory, csv)
  const url = `sqlite://${path.join(dir, 'alto.db')}`
  const alto = await connect(url)
  const tenant = await alto.createTenant('acme', settings)
  await tenant.createShare('media', { root: share })
  assert.equal((await tenant.ingest('media', inventory, { fullScan: true })).accepted, 3)
  const rules = (target) =>
    RuleSet.fromToml(`[[rule]]\nname = "cold"\naccessed_before = "180d"\ntarget = "${target}"\n`)
  return { dir, share, tier2, files, sizes, url, alto, tenant, rules }
}

function objects(dir) {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath ?? e.path, e.name))
    .sort()
}

test('settings are set, kept when not named, and read back', async (t) => {
  const { url, alto, tenant } = await shelf(t, { jobRetentionDays: 30 })
  const s = tenant.settings
  assert.deepEqual(
    [s.plannedRetentionDays, s.rehydratedRetentionDays, s.jobRetentionDays, s.feedStagingHours],
    [365, undefined, 30, 24],
  )
  assert.deepEqual([s.unknownPaths, s.stubAccess, s.keepHistory], ['queue', 'alert', true])

  const set = await tenant.setSettings({
    plannedRetentionDays: 0,
    rehydratedRetentionDays: 7,
    deletedRetentionDays: 14,
    feedStagingHours: 6,
    stubAccess: 'rehydrate',
  })
  assert.deepEqual(set, {
    keepHistory: true,
    plannedRetentionDays: 0,
    feedStagingHours: 6,
    unknownPaths: 'queue',
    stubAccess: 'rehydrate',
    rehydratedRetentionDays: 7,
    deletedRetentionDays: 14,
    jobRetentionDays: 30,
  })
  assert.deepEqual(tenant.settings, set)
  assert.deepEqual((await (await connect(url)).tenant('acme')).settings, set, 'stored')

  // null clears a retention (kept forever); undefined leaves a setting as it is.
  const cleared = await tenant.setSettings({ rehydratedRetentionDays: null, deletedRetentionDays: undefined })
  assert.equal(cleared.rehydratedRetentionDays, undefined)
  assert.equal(cleared.deletedRetentionDays, 14)
  // Over the stored settings: another connection's change is kept.
  const other = await alto.tenant('acme')
  await other.setSettings({ feedStagingHours: 48 })
  assert.equal(tenant.settings.feedStagingHours, 6, 'as this object last saw them')
  assert.equal((await tenant.setSettings({ jobRetentionDays: null })).feedStagingHours, 48)
  assert.equal(tenant.settings.jobRetentionDays, undefined)

  await assert.rejects(tenant.setSettings({ stubAccess: 'shout' }), (e) => e.code === 'InvalidInput')
  assert.throws(() => tenant.setSettings({ plannedRetentionDays: 'soon' }), /plannedRetentionDays/)
  assert.equal(tenant.settings.stubAccess, 'rehydrate', 'a refused change changes nothing')
})

test('maintain: a dry run counts, a real one expires the PLANNED objects', async (t) => {
  const { tenant, tier2, files, rules } = await shelf(t)
  const plan = await tenant.plan(rules(`file://${tier2}/{tenant}/`), { commit: true })
  assert.equal(plan.committed.planned, 2)
  const planned = async () => (await collect(tenant.files({ state: 'PLANNED' }))).map((f) => f.path).sort()
  assert.deepEqual(await planned(), [files['a.mov'], files['b.mov']])

  const kept = await tenant.maintain()
  assert.equal(kept.plannedExpired, 0, 'within a year')
  await tenant.setSettings({ plannedRetentionDays: 0 })
  const dry = await tenant.maintain({ dryRun: true })
  assert.deepEqual(
    [dry.tenant, dry.dryRun, dry.plannedExpired, dry.plannedSkipped, dry.event],
    ['acme', true, 2, 0, undefined],
  )
  assert.deepEqual(Object.keys(dry.pruned).sort(), ['deleted', 'feedEvents', 'jobs', 'rehydrated', 'snapshotRows'])
  assert.equal((await planned()).length, 2, 'a dry run changes nothing')

  const real = await tenant.maintain()
  assert.deepEqual([real.dryRun, real.plannedExpired, real.plannedSkipped], [false, 2, 0])
  assert.equal(typeof real.event, 'number')
  assert.deepEqual(await planned(), [])
  const sweeps = await collect(tenant.audit({ kind: 'maintain.sweep' }))
  assert.deepEqual(sweeps.map((e) => e.id), [kept.event, real.event], 'one event per sweep that is not dry')
  assert.deepEqual(sweeps.map((e) => e.detail.planned_expired), [0, 2])
  assert.equal((await collect(tenant.audit({ kind: 'tier.withdraw' }))).length, 2)
  assert.equal((await tenant.maintain({ dryRun: false })).plannedExpired, 0)
})

test('reconcile: the lost object, and orphans kept without apply', async (t) => {
  const { alto, tenant, tier2, files, sizes, rules } = await shelf(t)
  // Objects at {tier2}/acme/media/…: the tenant's prefix is {tier2}/acme/.
  const cold = rules(`file://${tier2}/`)
  await tenant.plan(cold, { commit: true })
  assert.equal((await alto.runWorkers({ tenant: 'acme' })).stubbed, 2)
  // b back and tiered again: its first object stays behind, an orphan Alto may delete.
  await tenant.rehydrate('media', files['b.mov'])
  await tenant.plan(cold, { commit: true })
  assert.equal((await alto.runWorkers({ tenant: 'acme' })).stubbed, 1)
  assert.equal(objects(tier2).length, 3)
  // a's object goes missing; a stranger's file appears under the tenant's prefix.
  const aObj = objects(tier2).find((p) => path.basename(p).startsWith('a.mov'))
  fs.unlinkSync(aObj)
  const stray = path.join(tier2, 'acme', 'stray.bin')
  fs.writeFileSync(stray, "not alto's")
  const monthAgo = new Date(Date.now() - 30 * DAY)
  fs.utimesSync(stray, monthAgo, monthAgo)

  const later = new Date(Date.now() + 8 * DAY)
  const r = await tenant.reconcile({ now: later })
  assert.deepEqual([r.tenant, r.apply, r.graceSeconds, r.stubsChecked], ['acme', false, 7 * 86400, 2])
  assert.equal(r.lost.length, 1)
  const [lost] = r.lost
  assert.deepEqual([lost.path, lost.reason, lost.share, lost.flagged], [files['a.mov'], 'missing', 'media', true])
  assert.equal(lost.foundSize, undefined)
  assert.equal(lost.recordedSize, sizes['a.mov'])
  const byName = Object.fromEntries(r.orphans.map((o) => [o.key.split('/').pop(), o]))
  assert.equal(r.orphans.length, 2, JSON.stringify(r.orphans))
  assert.equal(byName['stray.bin'].action, 'kept')
  assert.match(byName['stray.bin'].reason, /not an object key/)
  const bOld = r.orphans.find((o) => o !== byName['stray.bin'])
  assert.deepEqual([bOld.action, bOld.share, bOld.size], ['would_delete', 'media', sizes['b.mov']])
  assert.ok(bOld.modified instanceof Date)
  assert.deepEqual([r.deleted, r.deletedBytes, r.unknownStubs, r.recovered], [0, 0, [], []])
  assert.deepEqual(r.shares.map((s) => [s.share, s.complete]), [['media', true]])
  assert.equal(r.targets.length, 1)
  assert.equal(typeof r.event, 'number')
  assert.ok(fs.existsSync(stray), 'not deleted without apply')
  assert.equal(objects(tier2).length, 3)
  const children = (await collect(tenant.audit({ children: r.event }))).map((e) => e.kind)
  assert.equal(children.filter((k) => k === 'reconcile.orphan').length, 2)
  // The flag is on the file record too.
  const flagged = (await collect(tenant.files())).filter((f) => f.lost)
  assert.deepEqual(flagged.map((f) => [f.path, f.state, f.lost]), [[files['a.mov'], 'STUBBED', 'missing']])
  assert.ok(flagged[0].lostAt instanceof Date)

  // Within the grace period, counted back from now, b's old object is kept too.
  assert.deepEqual([...new Set((await tenant.reconcile()).orphans.map((o) => o.action))], ['kept'])
  // With apply, the orphan Alto may delete goes; the stranger's file stays.
  const applied = await tenant.reconcile({ now: later, apply: true, graceSeconds: 86400 })
  assert.deepEqual([applied.deleted, applied.deletedBytes, applied.graceSeconds], [1, sizes['b.mov'], 86400])
  assert.ok(fs.existsSync(stray))
  assert.equal(objects(tier2).length, 2)
  assert.deepEqual((await tenant.reconcile({ share: 'media' })).lost.map((l) => l.reason), ['missing'])

  await assert.rejects(tenant.reconcile({ graceSeconds: 300 }), (e) => e.code === 'InvalidInput')
  await assert.rejects(tenant.reconcile({ graceSeconds: -1 }), (e) => e.code === 'InvalidInput')
  await assert.rejects(tenant.reconcile({ share: 'nope' }), (e) => e.code === 'NotFound')
})

test('report: totals, the stubbed file by state, the what-if, HTML and CSV', async (t) => {
  const { alto, tenant, tier2, files, sizes, rules } = await shelf(t)
  const total = sizes['a.mov'] + sizes['b.mov'] + sizes['note.txt']
  const onlyA = RuleSet.fromToml(`[[rule]]\nname = "a"\ninclude = ["**/a.mov"]\ntarget = "file://${tier2}/"\n`)
  await tenant.plan(onlyA, { commit: true })
  assert.equal((await alto.runWorkers({ tenant: 'acme' })).stubbed, 1)

  const r = await tenant.report()
  assert.ok(r instanceof Report)
  assert.deepEqual([r.tenant, r.share], ['acme', null])
  assert.deepEqual(r.totals, {
    files: 3,
    bytes: total,
    saved: { files: 1, bytes: sizes['a.mov'] },
    planned: { files: 0, bytes: 0 },
    missing: { files: 0, bytes: 0 },
  })
  const byState = Object.fromEntries(r.byState.map((e) => [e.key ?? null, e]))
  assert.deepEqual(Object.keys(byState).sort(), ['STUBBED', 'null'])
  assert.deepEqual(
    [byState.STUBBED.files, byState.STUBBED.bytes, byState.STUBBED.stubbedFiles, byState.STUBBED.stubbedBytes],
    [1, sizes['a.mov'], 1, sizes['a.mov']],
  )
  assert.deepEqual([byState.null.files, byState.null.label], [2, '(no tier object)'])
  assert.deepEqual(Object.fromEntries(r.byExtension.map((e) => [e.key, e.files])), { mov: 2, txt: 1 })
  assert.equal(r.byAge.reduce((n, e) => n + e.files, 0), 3)
  assert.equal(r.bySize.reduce((n, e) => n + e.bytes, 0), total)
  assert.deepEqual(r.largest.map((f) => f.path), [files['a.mov'], files['b.mov'], files['note.txt']])
  assert.equal(r.largest[0].state, 'STUBBED')
  assert.ok(r.largest[0].accessed instanceof Date)
  assert.equal(r.whatIf, null)
  assert.ok(Math.abs(r.now.getTime() - Date.now()) < 60e3)
  const json = JSON.parse(JSON.stringify(r))
  assert.deepEqual(json.totals, r.totals)
  assert.equal(json.now, r.now.toISOString())
  assert.deepEqual(Object.keys(json).sort(), [
    'byAge', 'byExtension', 'byOwner', 'byRule', 'byShare', 'bySize', 'byState', 'largest', 'now',
    'oldest', 'ownersRecorded', 'tenant', 'totals',
  ])

  const html = r.toHtml()
  assert.ok(html.startsWith('<!DOCTYPE html>'))
  assert.ok(
    html.includes(`data-section="state" data-key="STUBBED" data-label="STUBBED" data-files="1" data-bytes="${sizes['a.mov']}"`),
  )
  const csv = r.toCsv().split('\n')
  assert.equal(csv[1], `totals,all,3,${total},1,${sizes['a.mov']},0,0`)
  assert.ok(csv.includes(`state,STUBBED,1,${sizes['a.mov']},1,${sizes['a.mov']},0,0`))

  // The what-if of the cold rule: b would be tiered now; a is skipped, already stubbed.
  const cold = rules(`file://${tier2}/{tenant}/`)
  const w = (await tenant.report({ rules: cold, rulesSource: 'cold.toml', top: 1 })).whatIf
  assert.deepEqual([w.filesMatched, w.bytesMatched, w.filesSkipped, w.jobs], [1, sizes['b.mov'], 1, 1])
  assert.deepEqual([w.rules, w.byRule.map((x) => x.rule)], ['cold.toml', ['cold']])
  const nextYear = new Date(Date.now() + 365 * DAY)
  assert.equal((await tenant.report({ rules: cold, now: nextYear })).whatIf.filesMatched, 2)
  await tenant.plan(cold, { commit: true })
  const again = await tenant.report({ share: 'media', top: 0 })
  assert.deepEqual(again.totals.planned, { files: 1, bytes: sizes['b.mov'] })
  assert.deepEqual(
    Object.fromEntries(again.byState.map((e) => [e.key ?? null, e.files])),
    { null: 1, PLANNED: 1, STUBBED: 1 },
  )
  assert.deepEqual([again.largest, again.share], [[], 'media'])

  await assert.rejects(tenant.report({ share: 'nope' }), (e) => e.code === 'NotFound')
})
