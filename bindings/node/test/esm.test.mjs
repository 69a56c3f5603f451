// `import` works as well as `require`, with the same exports, and the types declare them all.
import test from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import * as esm from '../index.mjs'
import { connect, RuleSet, planInventory } from '../index.mjs'

const require = createRequire(import.meta.url)
const cjs = require('../index.js')

test('ESM and CommonJS export the same API', () => {
  const names = (m) => Object.keys(m).filter((k) => !k.startsWith('__')).sort()
  assert.deepEqual(names(esm).filter((k) => k !== 'default'), names(cjs))
  assert.equal(esm.connect, cjs.connect)
  assert.equal(esm.default, cjs)
})

test('index.d.ts declares every export', () => {
  const dts = readFileSync(new URL('../index.d.ts', import.meta.url), 'utf8')
  for (const name of Object.keys(cjs).filter((k) => !k.startsWith('__'))) {
    assert.match(dts, new RegExp(`export declare (class|function) ${name}\\b`), name)
  }
  assert.match(dts, /export declare function planInventory\([^)]*\): Promise<Plan>/)
})

test('a journey step from ESM', async () => {
  const alto = await connect('memory://')
  const tenant = await alto.createTenant('acme')
  const rules = RuleSet.fromToml('[[rule]]\nname = "all"\ntarget = "file:///t/"\n')
  const plan = await tenant.plan(rules)
  assert.equal(plan.filesScanned, 0)
  assert.deepEqual(plan.unmatchedRules, ['all'])
  assert.equal(typeof planInventory, 'function')
})
