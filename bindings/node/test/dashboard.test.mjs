// examples/node/dashboard.mjs, started and queried: plan, files page by page with the cursor,
// jobs and audit pages, and errors as HTTP statuses with the error's code.
import test from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import path from 'node:path'
import fs from 'node:fs'
import { connect, RuleSet } from '../index.mjs'
import { start } from '../../../examples/node/dashboard.mjs'

const require = createRequire(import.meta.url)
const { fixture } = require('./helpers.cjs')

test('the dashboard serves plan, files, jobs and audit pages', async (t) => {
  const fx = fixture()
  const url = `sqlite://${path.join(fx.dir, 'alto.db')}`
  const alto = await connect(url)
  const tenant = await alto.createTenant('acme')
  await tenant.createShare('media', { root: fx.share })
  await tenant.ingest('media', fx.inventory)
  const rulesFile = path.join(fx.dir, 'rules.toml')
  fs.writeFileSync(rulesFile, fx.rules)
  await tenant.plan(RuleSet.fromFile(rulesFile), { commit: true })

  const server = await start({ url, tenant: 'acme', rules: rulesFile })
  t.after(() => {
    server.close()
    fx.cleanup()
  })
  const base = `http://127.0.0.1:${server.address().port}`
  const get = async (p) => {
    const res = await fetch(base + p)
    return [res.status, await res.json()]
  }

  const [s1, plan] = await get('/plan')
  assert.equal(s1, 200)
  assert.equal(plan.filesScanned, 2)
  assert.equal(plan.filesMatched, 1)
  assert.equal(typeof plan.now, 'string')

  const [, first] = await get('/files?limit=1')
  assert.equal(first.items.length, 1)
  assert.equal(typeof first.cursor, 'string')
  const [, second] = await get(`/files?limit=10&after=${encodeURIComponent(first.cursor)}`)
  assert.equal(second.items.length, 1)
  assert.deepEqual([first.items[0].path, second.items[0].path].sort(), [fx.note, fx.old].sort())
  const [, planned] = await get('/files?state=PLANNED')
  assert.deepEqual(planned.items.map((f) => f.path), [fx.old])

  const [, jobs] = await get('/jobs?state=queued')
  assert.equal(jobs.items.length, 1)
  const [, all] = await get('/audit')
  assert.ok(all.items.length >= 1)
  const [, audit] = await get('/audit?limit=1')
  assert.deepEqual(audit.items.map((e) => e.id), [all.items[0].id])
  const [, rest] = await get(`/audit?after=${encodeURIComponent(audit.cursor)}`)
  assert.deepEqual(rest.items.map((e) => e.id), all.items.slice(1).map((e) => e.id))

  const [s2, bad] = await get('/files?after=garbage')
  assert.deepEqual([s2, bad.code], [400, 'InvalidInput'])
  const [s3] = await get('/nope')
  assert.equal(s3, 404)
})

// The JS path the dashboard took before pages came as JSON text: whole pages of objects,
// stringified with sizes past 2^53 (bigint) as strings.
const jsPath = (value) => JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? v.toString() : v))
const HUGE = '9007199254740993' // 2^53 + 1: a bigint in JavaScript, not a number
// The same text with each bigint as its exact number text instead of a string.
const exact = (value) =>
  JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? `\u0000${v}` : v)).replace(/"\\u0000(\d+)"/g, '$1')

test('nextPageJson gives the text JSON.stringify gave for nextPage, sizes past 2^53 exact', async (t) => {
  const fx = fixture()
  const url = `sqlite://${path.join(fx.dir, 'alto.db')}`
  const alto = await connect(url)
  const tenant = await alto.createTenant('acme')
  await tenant.createShare('media', { root: fx.share })
  await tenant.ingest('media', fx.inventory)
  // A share without a root holds whatever the inventory says: a size past 2^53, a time before
  // 1970 with sub-millisecond digits (a Date rounds it down), times with microseconds, text
  // that JSON escapes, and rows with and without the optional columns.
  const odd = path.join(fx.dir, 'odd.csv')
  fs.writeFileSync(
    odd,
    'file_path,file_size,last_modified,last_accessed,file_extension,permissions,owner,hash\n' +
      `/data/huge.bin,${HUGE},1969-12-31T23:59:59.999500Z,2025-01-02T03:04:05.123456Z,bin,0644,root,abc\n` +
      '"/data/q""uote\\back\tslash é ✓.txt",0,2024-02-29T12:00:00Z,,,,,\n' +
      '/data/plain.txt,12,2025-11-01T00:00:00.000999Z,2025-11-01T00:00:01Z,,,,\n',
  )
  const r = await tenant.ingest('odd', odd)
  assert.equal(r.accepted, 3)
  const rulesFile = path.join(fx.dir, 'rules.toml')
  fs.writeFileSync(rulesFile, fx.rules)
  await tenant.plan(RuleSet.fromFile(rulesFile), { commit: true })
  const server = await start({ url, tenant: 'acme', rules: rulesFile })
  t.after(() => {
    server.close()
    fx.cleanup()
  })

  // Two listings of each kind in step, two items a page: objects then JSON.stringify, and
  // nextPageJson. The texts are the same but for the bigint, a string before and an exact
  // number now; the cursors are the same after every page.
  const kinds = {
    files: (o) => tenant.files(o),
    jobs: (o) => tenant.jobs(o),
    audit: (o) => tenant.audit(o),
  }
  for (const [kind, list] of Object.entries(kinds)) {
    const objects = list({ pageSize: 2 })
    const texts = list({ pageSize: 2 })
    let pages = 0
    for (;;) {
      const page = await objects.nextPage()
      const text = await texts.nextPageJson()
      if (page === null) {
        assert.equal(text, null, kind)
        break
      }
      pages++
      assert.equal(text, exact(page), kind)
      assert.equal(texts.cursor, objects.cursor, kind)
    }
    assert.ok(pages >= 1, kind)
  }

  const files = JSON.parse(await tenant.files().nextPageJson())
  const byPath = Object.fromEntries(files.map((f) => [f.path, f]))
  const huge = byPath['/data/huge.bin']
  assert.equal(huge.modified, '1969-12-31T23:59:59.999Z')
  assert.equal(huge.accessed, '2025-01-02T03:04:05.123Z')
  assert.equal(huge.pathKey, '/data/huge.bin')
  assert.equal(byPath['/data/plain.txt'].modified, '2025-11-01T00:00:00.000Z')
  assert.ok('/data/q"uote\\back\tslash é ✓.txt' in byPath)
  assert.equal(byPath['/data/plain.txt'].extension, 'txt')
  assert.ok(!('owner' in byPath['/data/plain.txt']), 'absent fields are left out')
  const odds = tenant.files({ share: 'odd' })
  const text = await odds.nextPageJson()
  assert.match(text, new RegExp(`"size":${HUGE},`), 'the JSON number text is exact')
  const before = jsPath(await tenant.files({ share: 'odd' }).nextPage())
  assert.match(before, new RegExp(`"size":"${HUGE}",`), 'the JS path wrote it as a string')
  assert.equal(text, before.replace(`"${HUGE}"`, HUGE))
  // Where JSON.parse hands revivers a number's text (Node 21+), the size reads back exactly.
  const read = JSON.parse(text, (k, v, ctx) => (k === 'size' && ctx?.source ? BigInt(ctx.source) : v))
  if (typeof read[0].size === 'bigint') assert.equal(read.find((f) => f.path === '/data/huge.bin').size, BigInt(HUGE))

  // The dashboard serves that text in the page it served before: { items, cursor }.
  const base = `http://127.0.0.1:${server.address().port}`
  for (const [route, list] of [['/files', kinds.files], ['/jobs', kinds.jobs], ['/audit', kinds.audit]]) {
    let after
    for (let n = 0; n < 10; n++) {
      const q = after === undefined ? '' : `&after=${encodeURIComponent(after)}`
      const res = await fetch(`${base}${route}?limit=2${q}`)
      assert.equal(res.status, 200)
      assert.equal(res.headers.get('content-type'), 'application/json')
      const served = await res.text()
      const listing = list({ pageSize: 2, after })
      const items = (await listing.nextPage()) ?? []
      assert.equal(served, exact({ items, cursor: listing.cursor }), route)
      if (items.length === 0) break
      after = listing.cursor
    }
  }
})
