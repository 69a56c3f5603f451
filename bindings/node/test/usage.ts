// Type-checked by test.sh (`tsc --noEmit --strict`), never run: the generated index.d.ts is
// valid TypeScript and types the API as the README documents it.
import {
  connect,
  planInventory,
  Report,
  RuleSet,
  type AuditEvent,
  type FileInfo,
  type MaintainReport,
  type Plan,
  type ReconcileReport,
  type TenantSettingsInfo,
} from '../index.js'

export async function usage(): Promise<void> {
  const alto = await connect('memory://', { shareRoots: { media: '/mnt/media' } })
  const tenant = await alto.createTenant('acme', { keepHistory: false, stubAccess: 'alert' })
  await tenant.createShare('media', { root: '/mnt/media', kind: 'posix', caseSensitive: true })
  const ingested: number = (await tenant.ingest('media', 'scan.csv', { fullScan: true })).accepted
  const rules = RuleSet.fromToml('[[rule]]\nname = "all"\ntarget = "file:///t/"\n')
  const plan: Plan = await tenant.plan(rules, { commit: true, now: new Date() })
  const matched: number = plan.filesMatched + ingested
  const saved: number | bigint = plan.toJSON().bytesSaved
  const files = tenant.files({ glob: '**/*.mov', state: 'STUBBED' })
  for await (const f of files) {
    const file: FileInfo = f
    const when: Date | undefined = file.modified
    const size: number | bigint = file.size
    void [when, size]
  }
  const cursor: string | null = files.cursor
  const page: FileInfo[] | null | undefined = await tenant.files({ after: cursor ?? undefined }).nextPage()
  const text: string | null | undefined = await tenant.audit({ pageSize: 50 }).nextPageJson()
  for await (const e of tenant.audit({ after: cursor ?? undefined })) {
    const at: Date = e.at
    void at
  }
  const since = new Date(Date.now() - 86400e3)
  const filtered = tenant.audit({ kind: ['tier.*', 'job.done'], subject: '/m/a.mov', since, until: new Date() })
  for await (const e of filtered) {
    const source: string = e.actor.source
    const pid: number | undefined = e.actor.pid
    const login: string | undefined = e.actor.dbUser
    const parent: number | undefined = e.parent
    void [source, pid, login, parent]
  }
  const job = (await tenant.jobs().nextPage())?.[0]
  if (job?.event !== undefined) {
    const children: AuditEvent[] | null | undefined = await tenant.audit({ kind: 'tier.plan', children: job.event }).nextPage()
    void children
  }
  const service = await connect('memory://', { source: 'nightly-report' })
  // @ts-expect-error a kind is a string or an array of strings
  tenant.audit({ kind: 5 })
  const run: number = (await alto.runWorkers({ tenant: 'acme', once: true, workers: 2 })).stubbed
  const follow = new AbortController()
  const followed: number = (await alto.runWorkers({ once: false, signal: follow.signal })).jobs
  const rule: string | null = rules.evaluate({ path: '/a.mov', size: 10n, modified: new Date() })
  const dry: Plan = await planInventory(rules, 'scan.csv', { now: new Date() })
  // @ts-expect-error an option that does not exist
  tenant.files({ color: 'red' })
  // Upkeep: settings (null keeps forever), the retention sweep, reconciliation, reports.
  const settings: TenantSettingsInfo = await tenant.setSettings({ plannedRetentionDays: 0, rehydratedRetentionDays: null })
  const kept: number | undefined = tenant.settings.rehydratedRetentionDays ?? settings.deletedRetentionDays
  const swept: MaintainReport = await tenant.maintain({ dryRun: true })
  const expired: number = swept.plannedExpired + swept.pruned.jobs
  const reconciled: ReconcileReport = await tenant.reconcile({ share: 'media', graceSeconds: 86400, now: new Date() })
  const reasons: string[] = reconciled.lost.map((l) => l.reason)
  const orphanTimes: (Date | undefined)[] = reconciled.orphans.map((o) => o.modified)
  const report: Report = await tenant.report({ share: 'media', top: 5, rules, rulesSource: 'rules.toml' })
  const stubbed: number | bigint = report.totals.saved.bytes
  const stateKeys: (string | undefined)[] = report.byState.map((e) => e.key)
  const whatIf: number | undefined = report.whatIf?.filesMatched
  const page2: string = report.toHtml() + report.toCsv()
  // @ts-expect-error a retention is a number of days or null
  tenant.setSettings({ plannedRetentionDays: 'soon' })
  void [matched, saved, page, run, followed, rule, dry, service, kept, expired, reasons, orphanTimes, stubbed, stateKeys, whatIf, page2]
}
