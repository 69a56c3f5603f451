// Shared fixtures: a share on disk with an old video and a fresh note, and its inventory; the
// journey and the audit trail's filters, run on each store.
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const assert = require('node:assert/strict')
const { connect, Plan, RuleSet } = require('..')

function rfc3339(d) {
  return d.toISOString()
}

function fixture() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'alto-node-'))
  const share = path.join(dir, 'share')
  const tier2 = path.join(dir, 'tier2')
  fs.mkdirSync(path.join(share, 'projects'), { recursive: true })
  fs.mkdirSync(tier2)
  const old = path.join(share, 'projects/old.mov')
  fs.writeFileSync(old, Buffer.alloc(256 * 1024, 7))
  // Whole seconds: a Date's milliseconds do not survive utimes exactly, and the worker skips a
  // file whose mtime differs from the inventory's.
  const yearAgo = new Date(Math.floor(Date.now() / 1000 - 400 * 86400) * 1000)
  fs.utimesSync(old, yearAgo, yearAgo)
  const note = path.join(share, 'projects/note.txt')
  fs.writeFileSync(note, 'fresh')
  let csv = 'file_path,file_size,last_modified,last_accessed\n'
  for (const p of [old, note]) {
    const st = fs.statSync(p)
    csv += `${p},${st.size},${rfc3339(st.mtime)},${rfc3339(st.atime)}\n`
  }
  const inventory = path.join(dir, 'inventory.csv')
  fs.writeFileSync(inventory, csv)
  const rules = `[[rule]]\nname = "cold"\naccessed_before = "180d"\ntarget = "file://${tier2}/{tenant}/"\n`
  return { dir, share, tier2, old, note, inventory, rules, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) }
}

async function collect(iterable, limit = Infinity) {
  const out = []
  for await (const item of iterable) {
    out.push(item)
    if (out.length >= limit) break
  }
  return out
}

// The whole journey, on any store: tenant, share with its root, ingest a real directory's
// inventory, plan and commit, run the workers, rehydrate, page the audit trail and resume it.
async function journey(url, backend, fx) {
  const alto = await connect(url)
  assert.equal(alto.backend, backend)

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
  await assert.rejects(tenant.rehydrate('media', fx.old), (e) => e.code === 'InvalidTransition')

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

  // Whole pages: nextPage() gives the rest of the page iteration stopped in, then whole pages.
  const paged = tenant.audit({ pageSize: 2 })
  const one = await collect(paged, 1)
  const pages = [one]
  for (let p = await paged.nextPage(); p !== null; p = await paged.nextPage()) pages.push(p)
  assert.deepEqual(pages.flat().map((e) => e.id), all.map((e) => e.id))
  assert.equal(pages[1].length, 1, 'the rest of the first page')
  assert.ok(pages.slice(2, -1).every((p) => p.length === 2))
  assert.equal(paged.cursor, rest.cursor)

  // Tenants and a second connection see the same store.
  const again = await connect(url)
  assert.deepEqual((await again.tenants()).map((t) => t.name), ['acme'])
  assert.equal((await again.tenant('acme')).name, 'acme')
}

// The audit trail's filters, the job chain and the actor, on any store: a tenant of its own
// (`filters`) with three files ingested and planned in one job. `dbUser` is the PostgreSQL
// login the events must name (undefined elsewhere).
async function auditFilters(url, dir, dbUser) {
  const alto = await connect(url)
  const tenant = await alto.createTenant('filters')
  const inventory = path.join(dir, 'filters.csv')
  fs.writeFileSync(
    inventory,
    'file_path,file_size,last_modified\n' +
      [0, 1, 2].map((i) => `/m/f${i}.mov,${1000 + i},2020-01-01T00:00:00Z\n`).join(''),
  )
  await tenant.ingest('media', inventory)
  await tenant.plan(RuleSet.fromToml('[[rule]]\nname = "all"\ntarget = "file:///t/"\n'), { commit: true })
  const [job] = await collect(tenant.jobs())
  const trail = await collect(tenant.audit())
  const ids = (events) => events.map((e) => e.id)
  const listed = async (query) => ids(await collect(tenant.audit(query)))
  const kinds = new Set(trail.map((e) => e.kind))
  for (const k of ['ingest.scan', 'ingest.chunk', 'ingest.finish', 'job.create', 'tier.plan']) {
    assert.ok(kinds.has(k), `${k} in ${[...kinds]}`)
  }

  // Kind: exact, a family, several; in the trail's order.
  const plans = await collect(tenant.audit({ kind: 'tier.plan' }))
  assert.equal(plans.length, 3)
  assert.deepEqual(ids(plans), ids(trail.filter((e) => e.kind === 'tier.plan')))
  assert.deepEqual(await listed({ kind: 'ingest.*' }), ids(trail.filter((e) => e.kind.startsWith('ingest.'))))
  assert.deepEqual(
    await listed({ kind: ['job.create', 'ingest.*'] }),
    ids(trail.filter((e) => e.kind === 'job.create' || e.kind.startsWith('ingest.'))),
  )
  assert.deepEqual(await listed({ kind: 'tier' }), [], 'a kind, not a prefix')
  assert.deepEqual(await listed({ kind: [] }), ids(trail), 'no kind given: every kind')

  // Subject, exactly.
  const key = plans[1].subject
  assert.deepEqual(
    (await collect(tenant.audit({ subject: key }))).map((e) => [e.kind, e.subject]),
    [['tier.plan', key]],
  )

  // Time: since <= at < until. A Date holds whole milliseconds and an event's `at` is its time
  // rounded down to one, so comparing the Dates gives the same answer as the store.
  const mid = trail[Math.floor(trail.length / 2)].at
  assert.deepEqual(await listed({ since: mid }), ids(trail.filter((e) => e.at >= mid)))
  assert.deepEqual(await listed({ until: mid }), ids(trail.filter((e) => e.at < mid)))
  assert.deepEqual(await listed({ since: mid, until: mid }), [])
  const tomorrow = new Date(Date.now() + 86400e3)
  assert.deepEqual(await listed({ since: tomorrow }), [])
  assert.deepEqual(await listed({ until: tomorrow }), ids(trail))
  assert.deepEqual(await listed({ kind: 'tier.*', subject: key, until: tomorrow }), [plans[1].id])

  // A job's event and its children: its files' tier.plan events.
  assert.equal(typeof job.event, 'number')
  const create = trail.find((e) => e.id === job.event)
  assert.deepEqual([create.kind, create.subject, create.parent], ['job.create', String(job.id), undefined])
  assert.equal(create.detail.files, 3)
  const children = await collect(tenant.audit({ children: job.event }))
  assert.deepEqual(ids(children), ids(plans))
  assert.ok(children.every((e) => e.parent === job.event))
  assert.deepEqual(await listed({ children: plans[0].id }), [])

  // A filtered listing resumes from its cursor; the cursor is a position in the whole trail.
  const it = tenant.audit({ kind: 'tier.plan', pageSize: 1 })
  assert.deepEqual(ids(await collect(it, 1)), [plans[0].id])
  assert.deepEqual(await listed({ after: it.cursor, kind: 'tier.plan' }), ids(plans.slice(1)))
  assert.deepEqual(await listed({ after: it.cursor }), ids(trail.filter((e) => e.id > plans[0].id)))

  // Every event names this process and the source `node`.
  const exe = path.basename(fs.realpathSync('/proc/self/exe'))
  for (const e of trail) {
    const a = e.actor
    assert.deepEqual(
      [a.source, a.pid, a.uid, a.user, a.host, a.process],
      ['node', process.pid, process.getuid(), os.userInfo().username, os.hostname(), exe],
    )
    assert.equal(a.dbUser, dbUser)
    const fields = ['user', 'host', 'process', 'source', 'uid', 'pid', ...(dbUser ? ['dbUser'] : [])]
    assert.deepEqual(Object.keys(a), fields)
  }

  // Another connection names another source. Cancelling the job withdraws its files' plans and
  // ends it: their events join its children.
  const other = await (await connect(url, { source: 'nightly-report' })).tenant('filters')
  await other.cancelJob(job.id)
  const [cancel] = await collect(tenant.audit({ kind: 'job.cancel' }))
  assert.deepEqual([cancel.actor.source, cancel.parent, cancel.subject], ['nightly-report', job.event, String(job.id)])
  assert.deepEqual(
    (await collect(tenant.audit({ children: job.event }))).map((e) => [e.kind, e.subject]),
    [
      ...plans.map((e) => ['tier.plan', e.subject]),
      ...plans.map((e) => ['tier.withdraw', e.subject]),
      ['job.cancel', String(job.id)],
    ],
  )
  const withdrawn = await collect(tenant.audit({ kind: 'tier.withdraw' }))
  assert.deepEqual(withdrawn.map((e) => e.actor.source), ['nightly-report', 'nightly-report', 'nightly-report'])
  const [cancelled] = await collect(tenant.jobs())
  assert.equal(cancelled.event, job.event)

  // Filtered pages as JSON text: the text JSON.stringify gives for nextPage(), actor included.
  const query = { kind: ['job.*', 'tier.*'], since: trail[0].at, pageSize: 2 }
  const objects = tenant.audit(query)
  const texts = tenant.audit(query)
  let pages = 0
  for (;;) {
    const page = await objects.nextPage()
    const text = await texts.nextPageJson()
    if (page === null) {
      assert.equal(text, null)
      break
    }
    pages++
    assert.equal(text, JSON.stringify(page))
    assert.equal(texts.cursor, objects.cursor)
  }
  assert.equal(pages, 4, 'job.create, 3 tier.plan, 3 tier.withdraw, job.cancel: 2 a page')
  const [parsed] = JSON.parse(await tenant.audit({ kind: 'job.cancel' }).nextPageJson())
  assert.equal(parsed.actor.source, 'nightly-report')
  assert.equal(parsed.parent, job.event)
}

module.exports = { fixture, collect, journey, auditFilters }
