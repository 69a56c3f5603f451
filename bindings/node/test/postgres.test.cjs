// The whole journey on PostgreSQL: a database of its own, migrated with the owner's URL, used
// through a runtime login, as the README's PostgreSQL quick start does it. DATABASE_URL is a
// superuser's URL (bindings/node/test.sh sources scripts/pg-env.sh, which finds or starts one);
// without it this test fails rather than skipping.
const test = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const { connect, migrate, createLogin, dropLogin } = require('..')
const { fixture, journey, auditFilters } = require('./helpers.cjs')

function withUrl(url, { user, password, db }) {
  const u = new URL(url)
  if (user !== undefined) u.username = user
  if (password !== undefined) u.password = password
  if (db !== undefined) u.pathname = `/${db}`
  return u.toString()
}

function sql(admin, statement) {
  execFileSync('psql', [admin, '-v', 'ON_ERROR_STOP=1', '-qc', statement], { stdio: 'pipe' })
}

test('the whole journey on PostgreSQL', async (t) => {
  const admin = process.env.DATABASE_URL
  assert.ok(admin, 'DATABASE_URL is not set: run bindings/node/test.sh (it finds or starts PostgreSQL)')
  const db = `alto_node_${process.pid}`
  const role = `alto_node_${process.pid}`
  const owner = withUrl(admin, { db })
  sql(admin, `DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`)
  sql(admin, `CREATE DATABASE "${db}"`)
  const fx = fixture()
  t.after(async () => {
    await dropLogin(owner, role).catch(() => {})
    sql(admin, `DROP DATABASE IF EXISTS "${db}" WITH (FORCE)`)
    fx.cleanup()
  })
  await migrate(owner)
  // The owner (a superuser here) is refused: row-level security would not bind it.
  await assert.rejects(connect(owner), (e) => e.code === 'PermissionDenied')
  await createLogin(owner, role, { password: 'node-secret' })
  const url = withUrl(owner, { user: role, password: 'node-secret' })
  await journey(url, 'postgres', fx)

  // A failure between two pages of a `for await`: the login loses the right to read the audit
  // trail after the first page; the next page's fetch rejects with the kind, as a direct call.
  const tenant = await (await connect(url)).tenant('acme')
  const seen = []
  await assert.rejects(
    async () => {
      for await (const e of tenant.audit({ pageSize: 1 })) {
        seen.push(e.id)
        if (seen.length === 1) sql(owner, 'REVOKE SELECT ON audit_event FROM alto_app')
      }
    },
    (e) => e instanceof Error && e.code === 'PermissionDenied' && e.retryable === false,
  )
  assert.equal(seen.length, 1)
  sql(owner, 'GRANT SELECT ON audit_event TO alto_app')

  // The audit trail's filters, the job chain, and the actor with the login the database saw.
  await auditFilters(url, fx.dir, role)
})
