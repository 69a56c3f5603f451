// Shared fixtures: a share on disk with an old video and a fresh note, and its inventory.
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

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

module.exports = { fixture, collect }
