// A small dashboard backend: a tenant's plan, files, jobs and audit trail as JSON over node:http.
//
//   node examples/node/dashboard.mjs sqlite://alto.db acme examples/rules.toml [port]
//
// GET /plan                                  the rules' dry-run plan (camelCase, as Plan.toJSON)
// GET /files?limit=&after=&state=&glob=      one page of files: { items, cursor }
// GET /jobs?limit=&after=&state=             one page of jobs
// GET /audit?limit=&after=                   one page of the audit trail
//
// A page's `cursor` goes back as `after` for the next page. Every request is a Promise on the
// addon's threads, and a page comes back as its JSON text (`nextPageJson`), written there too:
// the event loop only parses the request and writes the response. Sizes of 2^53 bytes and more
// are exact JSON numbers (read them with a parser that keeps a number's text, as Node 21+'s
// `JSON.parse(text, (key, value, { source }) => …)` does).
import http from 'node:http'
import { pathToFileURL } from 'node:url'
import { connect, RuleSet } from '../../bindings/node/index.mjs' // `from 'alto'` once installed

const MAX_PAGE = 1000

// The plan and errors: dates as ISO strings (Date#toJSON), sizes past 2^53 (bigint) as strings.
const json = (value) => JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? v.toString() : v))

// A response body that is JSON text already.
class Json {
  constructor(text) {
    this.text = text
  }
}

// One page as `{ items, cursor }`: the items' JSON text made by the addon (`nextPageJson`),
// then the cursor after the page's last item.
async function page(listing, limit) {
  const items = limit > 0 ? ((await listing.nextPageJson()) ?? '[]') : '[]'
  return new Json(`{"items":${items},"cursor":${JSON.stringify(listing.cursor)}}`)
}

/** Start the dashboard for `tenant` of the store at `url`; resolves to the listening server. */
export async function start({ url, tenant: name, rules: rulesFile, port = 0, host = '127.0.0.1' }) {
  const alto = await connect(url)
  const tenant = await alto.tenant(name)
  const rules = rulesFile ? RuleSet.fromFile(rulesFile) : null

  const routes = {
    '/plan': async () => {
      if (!rules) throw Object.assign(new Error('no rules given'), { code: 'NotFound' })
      return (await tenant.plan(rules)).toJSON()
    },
    '/files': (q, limit) =>
      page(tenant.files({ after: q.get('after') ?? undefined, state: q.get('state') ?? undefined, glob: q.get('glob') ?? undefined, pageSize: limit }), limit),
    '/jobs': (q, limit) =>
      page(tenant.jobs({ after: q.get('after') ?? undefined, state: q.get('state') ?? undefined, pageSize: limit }), limit),
    '/audit': (q, limit) => page(tenant.audit({ after: q.get('after') ?? undefined, pageSize: limit }), limit),
  }

  const server = http.createServer(async (req, res) => {
    const u = new URL(req.url, 'http://dashboard')
    const route = routes[u.pathname]
    let status = 200
    let body
    try {
      if (!route || req.method !== 'GET') {
        status = 404
        body = { error: 'not found', code: 'NotFound' }
      } else {
        const limit = Math.min(Number(u.searchParams.get('limit') ?? 100) || 100, MAX_PAGE)
        body = await route(u.searchParams, limit)
      }
    } catch (err) {
      status = { NotFound: 404, InvalidInput: 400, InvalidRule: 400, PermissionDenied: 403 }[err.code] ?? 500
      body = { error: err.message, code: err.code }
    }
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(body instanceof Json ? body.text : json(body))
  })
  await new Promise((resolve) => server.listen(port, host, resolve))
  return server
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [url = 'sqlite://alto.db', tenant = 'default', rules, port = '8080'] = process.argv.slice(2)
  const server = await start({ url, tenant, rules, port: Number(port) })
  console.log(`dashboard for ${tenant} at http://127.0.0.1:${server.address().port}/`)
}
