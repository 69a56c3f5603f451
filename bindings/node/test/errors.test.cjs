// Errors carry a stable `code` (the Rust error kind's name); rule errors say which rule and field.
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { connect, RuleSet, planInventory } = require('..')
const { fixture } = require('./helpers.cjs')

const code = (c, extra = {}) => (err) => {
  assert.ok(err instanceof Error, `not an Error: ${err}`)
  assert.equal(err.code, c, err.message)
  for (const [k, v] of Object.entries(extra)) assert.equal(err[k], v, k)
  return true
}

test('store errors reject with their kind', async (t) => {
  const fx = fixture()
  t.after(fx.cleanup)
  const alto = await connect(`sqlite://${path.join(fx.dir, 'alto.db')}`)
  await assert.rejects(alto.tenant('nobody'), code('NotFound'))
  const tenant = await alto.createTenant('acme')
  await assert.rejects(alto.createTenant('acme'), code('AlreadyExists'))
  await assert.rejects(alto.createTenant('x', { stubAccess: 'explode' }), code('InvalidInput'))
  await tenant.createShare('media', { root: fx.share })
  await assert.rejects(tenant.createShare('media'), code('AlreadyExists'))
  await assert.rejects(tenant.createShare('other', { kind: 'fat32' }), code('InvalidInput'))
  await assert.rejects(tenant.ingest('media', path.join(fx.dir, 'none.csv')), code('Io'))
  await tenant.ingest('media', fx.inventory)
  await assert.rejects(tenant.rehydrate('media', fx.note), code('NotFound'))
  await assert.rejects(tenant.rehydrate('nope', fx.note), code('NotFound'))
  await assert.rejects(tenant.applyEvents('media', [1, 2]), code('InvalidInput'))
  await assert.rejects(tenant.cancelJob(999), code('NotFound'))
  await assert.rejects(connect('ftp://example.org/'), code('InvalidInput'))
})

test('listings refuse bad arguments and foreign cursors at once', async () => {
  const alto = await connect('memory://')
  const tenant = await alto.createTenant('acme')
  assert.throws(() => tenant.files({ state: 'FROZEN' }), code('InvalidInput'))
  assert.throws(() => tenant.jobs({ state: 'sleeping' }), code('InvalidInput'))
  assert.throws(() => tenant.audit({ after: 'not-a-cursor' }), code('InvalidInput'))
  // Filters of the wrong type are refused by the addon's argument conversion (napi's codes).
  assert.throws(() => tenant.audit({ kind: 5 }), code('InvalidArg'))
  assert.throws(() => tenant.audit({ kind: ['tier.plan', 5] }), code('InvalidArg'))
  assert.throws(() => tenant.audit({ since: '2025-01-01' }), code('DateExpected'))
  assert.throws(() => tenant.audit({ subject: 7 }), code('StringExpected'))
  assert.throws(() => tenant.audit({ children: '12' }), code('NumberExpected'))
  await tenant.createShare('media')
  const t2 = await alto.createTenant('other')
  await t2.createShare('m')
  // A cursor of a files listing does not resume the audit trail.
  const fx = fixture()
  try {
    await tenant.ingest('media', fx.inventory)
    const files = tenant.files({ pageSize: 1 })
    for await (const _ of files) break
    assert.equal(typeof files.cursor, 'string')
    assert.throws(() => tenant.audit({ after: files.cursor }), code('InvalidInput'))
  } finally {
    fx.cleanup()
  }
})

// A cursor that parses and names the right listing, but whose position the store cannot read:
// it passes tenant.jobs()/audit() and fails when the first page is fetched, in the middle of
// `for await`. (The cursor text is opaque to users; a test may forge one.)
const forged = (listing) => 'ac2' + Buffer.from(`${listing}\0not-a-number`).toString('base64url')

test('an error while a listing fetches a page carries its code, in for await as in nextPage', async () => {
  const alto = await connect('memory://')
  const tenant = await alto.createTenant('acme')
  await tenant.createShare('media')
  for (const list of [() => tenant.jobs({ after: forged('jobs') }), () => tenant.audit({ after: forged('audit') })]) {
    await assert.rejects(async () => {
      for await (const _ of list()) assert.fail('yielded an item')
    }, code('InvalidInput', { retryable: false }))
    await assert.rejects(list().nextPage(), code('InvalidInput'))
    // The same error as the direct call's: an Error with a stack, the message without the kind.
    const err = await list()[Symbol.asyncIterator]().next().catch((e) => e)
    assert.ok(err instanceof Error && typeof err.stack === 'string')
    assert.doesNotMatch(err.message, /^InvalidInput: /)
  }
})

test('rule errors name the rule and the field', () => {
  assert.throws(
    () => RuleSet.fromToml('[[rule]]\nname = "cold"\nmin_size = "10XB"\ntarget = "file:///t/"\n'),
    code('InvalidRule', { rule: 'cold', field: 'min_size', ruleIndex: 0 }),
  )
  assert.throws(() => RuleSet.fromToml('this is not toml ['), code('InvalidRule'))
  assert.throws(() => RuleSet.fromFile('/nonexistent/rules.toml'), code('InvalidRule'))
})

test('evaluate returns the matching rule or null', () => {
  const rules = RuleSet.fromToml(
    '[[rule]]\nname = "big"\nmin_size = "1GB"\ntarget = "file:///t/"\n' +
      '[[rule]]\nname = "old"\nmodified_before = "30d"\ntarget = "file:///t/"\n',
  )
  assert.deepEqual(rules.names, ['big', 'old'])
  const now = new Date('2025-06-01T00:00:00Z')
  assert.equal(rules.evaluate({ path: '/a/b.bin', size: 2 ** 40 }, now), 'big')
  assert.equal(rules.evaluate({ path: '/a/b.bin', size: 2n ** 60n }, now), 'big')
  assert.equal(rules.evaluate({ path: '/a/b.txt', size: 1, modified: new Date('2025-01-01') }, now), 'old')
  assert.equal(rules.evaluate({ path: '/a/b.txt', size: 1, modified: new Date('2025-05-30') }, now), null)
  assert.throws(() => rules.evaluate({ path: '/a', size: -1 }), code('InvalidInput'))
})

test('planInventory rejects with the kind of the failure', async () => {
  const rules = RuleSet.fromToml('[[rule]]\nname = "all"\ntarget = "file:///t/"\n')
  await assert.rejects(planInventory(rules, '/nonexistent/inventory.csv'), code('Io'))
  await assert.rejects(
    planInventory(rules, '/nonexistent/inventory.csv', { columnMap: { no_such_column: 'X' } }),
    code('InvalidInput'),
  )
})
