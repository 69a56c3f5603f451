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
