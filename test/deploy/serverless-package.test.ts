// `npx serverless package` (osls), offline, and what it generates: the CloudFormation template (table,
// schedule, event rule, stream mapping, log subscription, HTTP APIs and their timeouts, per-function IAM), the five
// artifacts (one esbuild bundle each, exporting the handler the template names) and their size budget.
// Slow (~15 s): it bundles all five functions and compiles the template, as a deploy would.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPO_ROOT, run } from '../e2e/support/processes.ts'
import { readZip } from './zip.ts'
import { PROVIDER_READ_ATTRIBUTES } from '../../shared/store/provider-directory.ts'
import { FETCH_DEFAULTS, MAX_TIMEOUT_MS } from '../../shared/oidc/https-fetch.ts'
import { EXCHANGE_STORE_REQUEST_TIMEOUT_MS, MANAGEMENT_STORE_REQUEST_TIMEOUT_MS, STORE_ATTEMPTS } from '../../shared/store/store-timeouts.ts'
import { openExchangeStores } from '../../shared/store/exchange-stores.ts'

type Json = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
const SERVERLESS = `${REPO_ROOT}node_modules/.bin/serverless`
const FUNCTIONS = { management: 'Management', tokenExchange: 'TokenExchange', thumbprintCheck: 'ThumbprintCheck', keyRefresh: 'KeyRefresh', auditWriter: 'AuditWriter' } as const
const out = mkdtempSync(join(tmpdir(), 'oidc-sts-package-'))
const sample = (name: string) => JSON.parse(readFileSync(new URL(`../../events/${name}`, import.meta.url), 'utf8')) as Json
let template: Json
let R: Json

// Offline and quiet: no AWS credentials or metadata service, no update checks, no interactive setup.
const offline: NodeJS.ProcessEnv = {
  ...process.env,
  AWS_ACCESS_KEY_ID: 'offline',
  AWS_SECRET_ACCESS_KEY: 'offline',
  AWS_EC2_METADATA_DISABLED: 'true',
  SLS_TELEMETRY_DISABLED: '1',
  SLS_NOTIFICATIONS_MODE: 'off',
  SLS_INTERACTIVE_SETUP_DISABLE: '1',
  SLS_DEPRECATION_DISABLE: '*',
  CI: '1',
}

/** EventBridge / Lambda filter semantics for the patterns used here: value lists and {prefix}. */
function matches(pattern: Json, event: Json): boolean {
  return Object.entries(pattern).every(([k, p]) => {
    const v = event?.[k]
    if (Array.isArray(p)) return p.some((alt) => (typeof alt === 'object' && alt !== null ? typeof v === 'string' && v.startsWith(alt.prefix) : v === alt))
    return typeof v === 'object' && v !== null && matches(p, v)
  })
}

/** Every statement of a function's role, flattened. */
function statementsOf(fn: keyof typeof FUNCTIONS): Json[] {
  const role = R[`${FUNCTIONS[fn]}Role`]
  return role.Properties.Policies.flatMap((p: Json) => p.PolicyDocument.Statement).filter((s: Json) => s.Effect === 'Allow')
}
const actionsOf = (s: Json): string[] => [].concat(s.Action)
const grants = (fn: keyof typeof FUNCTIONS, action: string) => statementsOf(fn).filter((s) => actionsOf(s).includes(action))
const tableArn = { 'Fn::GetAtt': ['Table', 'Arn'] }
/** IAM's StringLike: `*` any characters, `?` one, everything else literal. */
const stringLike = (pattern: string, value: string) =>
  new RegExp(`^${[...pattern].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&'))).join('')}$`, 's').test(value)
const indexArn = { 'Fn::Sub': '${Table.Arn}/index/byIssuer' }

beforeAll(async () => {
  const packaged = await run(SERVERLESS, ['package', '--stage', 'test', '--region', 'eu-central-1', '--package', out], offline, 120_000)
  if (packaged.code !== 0) throw new Error(`serverless package failed:\n${packaged.stdout}\n${packaged.stderr}`)
  template = JSON.parse(readFileSync(join(out, 'cloudformation-template-update-stack.json'), 'utf8'))
  R = template.Resources
}, 150_000)
afterAll(() => rmSync(out, { recursive: true, force: true }))

describe('serverless package: the table', () => {
  it('is on-demand with point-in-time recovery, KMS encryption, TTL on expiresAt, a stream of keys only, and the sparse issuer index', () => {
    const t = R.Table
    expect(t.Type).toBe('AWS::DynamoDB::Table')
    expect(t.Properties).toMatchObject({
      TableName: 'oidc-sts-test',
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      // Keys only: the stream's reader (key refresh) never sees an item's attributes, AccessKey secrets included.
      StreamSpecification: { StreamViewType: 'KEYS_ONLY' },
      DeletionProtectionEnabled: false,
    })
    expect(t.Properties.GlobalSecondaryIndexes).toEqual([{
      IndexName: 'byIssuer',
      KeySchema: [{ AttributeName: 'issuerUrl', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }],
      Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: ['fingerprints', 'status'] },
    }])
    expect(t.DeletionPolicy).toBe('Delete')
  })

  it('is protected from deletion in prod (per-stage params), where the check also runs more often', async () => {
    const printed = await run(SERVERLESS, ['print', '--stage', 'prod', '--format', 'json'], offline, 60_000)
    expect(printed.code, printed.stderr).toBe(0)
    const prod = JSON.parse(printed.stdout) as Json
    expect(prod.resources.Resources.Table.Properties.DeletionProtectionEnabled).toBe(true)
    expect(prod.resources.Resources.Table.DeletionPolicy).toBe('Retain')
    expect(prod.functions.thumbprintCheck.events[0].schedule.rate).toEqual(['rate(5 minutes)'])
    expect(prod.functions.tokenExchange.environment.TOKEN_KEYS_PARAMETER).toBe('/oidc-sts/prod/token-keys')
  }, 60_000)

  it('gives every function 64 threads for host-name lookups, which a few issuers whose DNS never answers cannot all hold', () => {
    for (const fn of Object.values(FUNCTIONS)) expect(R[`${fn}LambdaFunction`].Properties.Environment.Variables.UV_THREADPOOL_SIZE, fn).toBe('64')
  })

  it('replaces the containers that read the secrets when secretsVersion changes (they read SSM once per container)', async () => {
    const printed = await run(SERVERLESS, ['print', '--stage', 'prod', '--format', 'json', '--param=secretsVersion=2026-11-29'], offline, 60_000)
    expect(printed.code, printed.stderr).toBe(0)
    const functions = (JSON.parse(printed.stdout) as Json).functions
    // A new environment value is a configuration change: Lambda starts new containers for it.
    expect(functions.tokenExchange.environment.SECRETS_VERSION).toBe('2026-11-29')
    expect(functions.management.environment.SECRETS_VERSION).toBe('2026-11-29')
    expect(R.TokenExchangeLambdaFunction.Properties.Environment.Variables.SECRETS_VERSION).toBe('1')
  }, 60_000)
})

describe('serverless package: functions and artifacts', () => {
  it.each(Object.entries(FUNCTIONS))('%s runs nodejs22.x on arm64 with its own role, and its handler exists in its own bundle', (fn, id) => {
    const f = R[`${id}LambdaFunction`]
    expect(f.Properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], Handler: `.build/${fn}/index.handler`, Role: { 'Fn::GetAtt': [`${id}Role`, 'Arn'] } })
    const entries = readZip(readFileSync(join(out, `${fn}.zip`)))
    // One bundle per function (its entry and the chunks it imports), nothing else in the artifact.
    const names = entries.map((e) => e.name)
    expect(names).toContain(`.build/${fn}/index.mjs`)
    for (const n of names) expect(n).toMatch(new RegExp(`^\\.build/${fn}/(index\\.mjs|chunks/[\\w-]+\\.mjs)$`))
    // Every chunk the bundle imports (statically or with import()) is in the artifact.
    for (const e of entries) for (const m of e.read().toString('utf8').matchAll(/["']\.\.?\/(chunks\/[\w-]+\.mjs|[\w-]+\.mjs)["']/g)) {
      const target = e.name.startsWith(`.build/${fn}/chunks/`) ? `.build/${fn}/chunks/${m[1]!.replace(/^chunks\//, '')}` : `.build/${fn}/${m[1]}`
      expect(names).toContain(target)
    }
    const code = entries.find((e) => e.name === `.build/${fn}/index.mjs`)!.read().toString('utf8')
    expect(code).toMatch(/export\s*\{[^}]*\bas handler\b[^}]*\}/)
  })

  it('keeps token-exchange within 1 MB zipped, and what its cold start loads smaller than management', () => {
    const size = (fn: string) => readFileSync(join(out, `${fn}.zip`)).length
    expect(size('tokenExchange')).toBeLessThanOrEqual(1024 * 1024)
    // The artifact also holds the chunks loaded on demand (SSM, the toolbox stores for writes): compare
    // what an import of index.mjs reads and compiles, the entry and the chunks it imports statically.
    const coldBytes = (fn: string) => {
      const files = new Map(readZip(readFileSync(join(out, `${fn}.zip`))).map((e) => [e.name, e.read().toString('utf8')]))
      const seen = new Set<string>()
      const visit = (name: string) => {
        if (seen.has(name)) return
        seen.add(name)
        const dir = name.slice(0, name.lastIndexOf('/') + 1)
        for (const m of files.get(name)!.matchAll(/(?:^|[;}\s])import\s*(?:[^"'()]*?from\s*)?["']\.\/([\w./-]+\.mjs)["']/g)) visit(dir + m[1])
      }
      visit(`.build/${fn}/index.mjs`)
      return [...seen].reduce((n, f) => n + files.get(f)!.length, 0)
    }
    expect(coldBytes('tokenExchange')).toBeLessThan(coldBytes('management'))
    for (const fn of Object.keys(FUNCTIONS)) expect(size(fn), fn).toBeLessThanOrEqual(1024 * 1024)
  })

  it('keeps the AWS SDK and dynamodb-toolbox out of what the token-exchange cold start loads (loaded by import() on first other use)', () => {
    const meta = JSON.parse(readFileSync(join(REPO_ROOT, '.build', 'tokenExchange', 'meta.json'), 'utf8')) as Json
    const outputs = meta.outputs as Record<string, { inputs: Record<string, unknown>; imports: Array<{ path: string; kind: string }> }>
    const entry = Object.keys(outputs).find((k) => k.endsWith('tokenExchange/index.mjs'))!
    const loaded = new Set<string>()
    const visit = (out: string) => {
      if (loaded.has(out) || !outputs[out]) return
      loaded.add(out)
      for (const i of outputs[out]!.imports) if (i.kind === 'import-statement') visit(i.path)
    }
    visit(entry)
    const inputs = [...loaded].flatMap((o) => Object.keys(outputs[o]!.inputs))
    expect(inputs).toContain('shared/store/raw-dynamodb.ts')
    expect(inputs).toContain('shared/aws/raw-json-client.ts')
    expect(inputs.filter((f) => /node_modules\/(@aws-sdk|@smithy|dynamodb-toolbox)\//.test(f))).toEqual([])
    // ...and they are in the artifact, for the first signed call or other store use.
    const all = Object.values(outputs).flatMap((o) => Object.keys(o.inputs))
    expect(all.some((f) => f.includes('node_modules/@aws-sdk/client-dynamodb/'))).toBe(true)
    expect(all.some((f) => f.includes('node_modules/dynamodb-toolbox/'))).toBe(true)
    expect(all.some((f) => f.includes('node_modules/@aws-sdk/client-ssm/'))).toBe(true)
  })

  it('bundles no management code into token exchange (esbuild metafile of the packaged build)', () => {
    const inputs = (fn: string) => Object.keys((JSON.parse(readFileSync(join(REPO_ROOT, '.build', fn, 'meta.json'), 'utf8')) as Json).inputs)
    const te = inputs('tokenExchange')
    expect(te).toContain('shared/services/sts-actions.ts')
    const managementOnly = ['shared/management-app.ts', 'shared/services/oidc-provider-actions.ts', 'shared/services/ram-role-actions.ts', 'shared/services/ram-policy-actions.ts', 'shared/services/accounts.ts', 'shared/services/audit-actions.ts', 'shared/services/provider-health-actions.ts']
    for (const f of managementOnly) expect(inputs('management'), f).toContain(f)
    expect(te.filter((f) => managementOnly.includes(f))).toEqual([])
  })

  it('gives the functions parameter names for their secrets, never the secrets', () => {
    const env = (id: string) => R[`${id}LambdaFunction`].Properties.Environment.Variables as Json
    expect(env('TokenExchange')).toMatchObject({ TOKEN_KEYS_PARAMETER: '/oidc-sts/test/token-keys', TABLE_NAME: R.Table.Properties.TableName })
    expect(env('Management')).toMatchObject({ TOKEN_KEYS_PARAMETER: '/oidc-sts/test/token-keys', ROOT_CREDENTIALS_PARAMETER: '/oidc-sts/test/root-credentials' })
    expect(env('ThumbprintCheck')).toMatchObject({ EVENT_BUS_NAME: R.EventBus.Properties.Name })
    for (const id of Object.values(FUNCTIONS)) {
      for (const secret of ['TOKEN_KEYS', 'ROOT_ACCESS_KEY_ID', 'ROOT_ACCESS_KEY_SECRET', 'ROOT_ACCOUNT_ID']) expect(env(id)[secret], `${id} ${secret}`).toBeUndefined()
    }
  })
})

describe('serverless package: triggers', () => {
  it('serves management and token exchange on two HTTP APIs, one function each (payload v2, $default route)', () => {
    const apis = Object.entries(R).filter(([, r]) => (r as Json).Type === 'AWS::ApiGatewayV2::Api')
    expect(apis.map(([k]) => k).sort()).toEqual(['ManagementHttpApi', 'TokenExchangeHttpApi'])
    for (const id of ['Management', 'TokenExchange']) {
      expect(R[`${id}Integration`].Properties).toMatchObject({ ApiId: { Ref: `${id}HttpApi` }, IntegrationType: 'AWS_PROXY', PayloadFormatVersion: '2.0', IntegrationUri: { 'Fn::GetAtt': [`${id}LambdaFunction`, 'Arn'] } })
      expect(R[`${id}Route`].Properties).toMatchObject({ ApiId: { Ref: `${id}HttpApi` }, RouteKey: '$default' })
      expect(R[`${id}InvokePermission`].Properties).toMatchObject({ Principal: 'apigateway.amazonaws.com', FunctionName: { 'Fn::GetAtt': [`${id}LambdaFunction`, 'Arn'] } })
      expect(R[`${id}InvokePermission`].Properties.SourceArn['Fn::Sub']).toContain(`\${${id}HttpApi}/*`)
    }
    // Custom domains are there, switched off by condition until a stage names them.
    expect(R.StsDomainName).toMatchObject({ Type: 'AWS::ApiGatewayV2::DomainName', Condition: 'HasStsDomain' })
    expect(R.ManagementApiMapping).toMatchObject({ Condition: 'HasManagementDomain', Properties: { ApiId: { Ref: 'ManagementHttpApi' } } })
    expect(template.Conditions.HasStsDomain).toEqual({ 'Fn::Not': [{ 'Fn::Equals': ['', ''] }] })
  })

  it('runs the thumbprint check on the stage\'s schedule, one run at a time', () => {
    const rules = Object.values(R).filter((r) => (r as Json).Type === 'AWS::Events::Rule' && (r as Json).Properties.ScheduleExpression) as Json[]
    expect(rules).toHaveLength(1)
    expect(rules[0]!.Properties).toMatchObject({ ScheduleExpression: 'rate(10 minutes)', State: 'ENABLED', Targets: [{ Arn: { 'Fn::GetAtt': ['ThumbprintCheckLambdaFunction', 'Arn'] } }] })
    expect(R.ThumbprintCheckLambdaFunction.Properties).toMatchObject({ ReservedConcurrentExecutions: 1, Timeout: 300 })
    // A schedule event (events/schedule.json) comes from aws.events.
    expect(sample('schedule.json')).toMatchObject({ source: 'aws.events', 'detail-type': 'Scheduled Event' })
  })

  it('routes key-rotation events on the service\'s bus to key refresh, and nothing else', () => {
    const rules = Object.values(R).filter((r) => (r as Json).Type === 'AWS::Events::Rule' && (r as Json).Properties.EventPattern) as Json[]
    expect(rules).toHaveLength(1)
    const rule = rules[0]!.Properties
    expect(rule).toMatchObject({ EventBusName: { Ref: 'EventBus' }, EventPattern: { source: ['oidc-sts'], 'detail-type': ['OIDC Issuer Key Rotation'] } })
    expect(rule.Targets[0]).toMatchObject({ Arn: { 'Fn::GetAtt': ['KeyRefreshLambdaFunction', 'Arn'] }, DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['KeyRefreshDeadLetterQueue', 'Arn'] } } })
    expect(matches(rule.EventPattern, sample('eventbridge-key-rotation.json'))).toBe(true)
    expect(matches(rule.EventPattern, sample('eventbridge-health-changed.json'))).toBe(false)
    expect(matches(rule.EventPattern, sample('schedule.json'))).toBe(false)
    expect(R.EventBus).toMatchObject({ Type: 'AWS::Events::EventBus', Properties: { Name: 'oidc-sts-test' } })
  })

  it('maps the table stream to key refresh: partial batch failures, bounded retries, a dead-letter queue, provider items only', () => {
    const mappings = Object.values(R).filter((r) => (r as Json).Type === 'AWS::Lambda::EventSourceMapping') as Json[]
    expect(mappings).toHaveLength(1)
    const m = mappings[0]!.Properties
    expect(m).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': ['Table', 'StreamArn'] },
      FunctionName: { 'Fn::GetAtt': ['KeyRefreshLambdaFunction', 'Arn'] },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      StartingPosition: 'LATEST',
      MaximumRetryAttempts: 3,
      BisectBatchOnFunctionError: true,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': ['KeyRefreshDeadLetterQueue', 'Arn'] } } },
    })
    const filters = (m.FilterCriteria.Filters as { Pattern: string }[]).map((f) => JSON.parse(f.Pattern) as Json)
    const passes = (record: Json) => filters.some((f) => matches(f, record))
    expect(passes(sample('dynamodb-stream-provider-insert.json').Records[0])).toBe(true)
    expect(passes(sample('dynamodb-stream-provider-modify.json').Records[0])).toBe(true)
    const nonce = sample('dynamodb-stream-provider-insert.json').Records[0]
    nonce.dynamodb.Keys = { pk: { S: 'NONCE#LTAI#n' }, sk: { S: 'NONCE' } }
    expect(passes(nonce)).toBe(false)
    const removal = { ...sample('dynamodb-stream-provider-insert.json').Records[0], eventName: 'REMOVE' }
    expect(passes(removal)).toBe(false)
  })
})

describe('serverless package: IAM, one least-privilege role per function', () => {
  it('creates no shared default role and never grants Resource "*"', () => {
    expect(R.IamRoleLambdaExecution).toBeUndefined()
    const roles = Object.entries(R).filter(([, r]) => (r as Json).Type === 'AWS::IAM::Role').map(([k]) => k).sort()
    expect(roles).toEqual(['AuditWriterRole', 'KeyRefreshRole', 'ManagementRole', 'ThumbprintCheckRole', 'TokenExchangeRole'])
    for (const fn of Object.keys(FUNCTIONS) as (keyof typeof FUNCTIONS)[]) {
      for (const s of statementsOf(fn)) {
        expect([].concat(s.Resource), `${fn} ${s.Sid}`).not.toContain('*')
        expect(actionsOf(s).some((a) => a.endsWith(':*') || a === '*'), `${fn} ${s.Sid}`).toBe(false)
      }
      // Logs only to the function's own log group.
      expect(grants(fn, 'logs:PutLogEvents')[0]!.Resource['Fn::Sub']).toMatch(new RegExp(`log-group:/aws/lambda/oidc-sts-test-${fn}:\\*$`))
    }
  })

  it('lets token exchange read by key the configuration, access keys and JWKS copies, and write only nonces: no Query, no other write', () => {
    const dynamo = statementsOf('tokenExchange').filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')))
    expect(dynamo.flatMap(actionsOf).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem'])
    for (const s of dynamo) expect(s.Resource).toEqual(tableArn)
    expect(grants('tokenExchange', 'dynamodb:GetItem').map((s) => s.Condition)).toEqual([{ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ACCOUNT#*', 'AK#*', 'JWKS#*'] } }])
    expect(grants('tokenExchange', 'dynamodb:PutItem').map((s) => s.Condition)).toEqual([{ 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['NONCE#*'] } }])
    for (const a of ['dynamodb:Query', 'dynamodb:BatchGetItem', 'dynamodb:BatchWriteItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:ConditionCheckItem', 'dynamodb:Scan', 'events:PutEvents']) expect(grants('tokenExchange', a), a).toEqual([])
    expect(grants('tokenExchange', 'ssm:GetParameters')[0]!.Resource).toEqual({ 'Fn::Sub': 'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter/oidc-sts/test/token-keys' })
  })

  it('grants token exchange every table request its stores make, with the keys they compute (provider, JWKS copy, role, AccessKey, nonce)', async () => {
    // The store calls of the function: AssumeRoleWithOIDC (provider, stored JWKS copy, role: raw
    // GetItems) and the signed GetCallerIdentity (AccessKey GetItem, nonce PutItem: toolbox stores). No
    // authorizer (both actions skip it) and no audit write (the audit writer copies the log lines).
    const seen: { op: string; pk: string }[] = []
    const server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Json
        seen.push({ op: String(req.headers['x-amz-target']).split('.').pop()!, pk: (body.Key ?? body.Item).pk.S })
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end('{}')
      })
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    try {
      const stores = openExchangeStores({ tableName: 'oidc-sts-test', region: 'eu-central-1', dynamodbEndpoint: `http://127.0.0.1:${(server.address() as { port: number }).port}` })
      await stores.providers.get('1234567890123456', 'github')
      await stores.jwksCopies.get('https://token.actions.githubusercontent.com')
      await stores.roles.get('1234567890123456', 'Deployer')
      await stores.accounts.getAccessKey('LTAI5tExampleKey0001')
      await stores.nonces.consume('LTAI5tExampleKey0001', 'a-nonce', 900, new Date())
    } finally {
      server.closeAllConnections()
      await new Promise((r) => server.close(r))
    }
    expect(seen.map((r) => r.op)).toEqual(['GetItem', 'GetItem', 'GetItem', 'GetItem', 'PutItem'])
    for (const { op, pk } of seen) {
      const allowed = grants('tokenExchange', `dynamodb:${op}`).some((s) => (s.Condition['ForAllValues:StringLike']['dynamodb:LeadingKeys'] as string[]).some((p) => stringLike(p, pk)))
      expect(allowed, `${op} ${pk}`).toBe(true)
    }
  })

  it('lets management change configuration in the table only, and read its two parameters', () => {
    const dynamo = statementsOf('management').filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')))
    // Transactions are of Put, Update and Delete items only: no ConditionCheckItem.
    expect(dynamo.flatMap(actionsOf).sort()).toEqual(['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'])
    for (const s of dynamo) expect(s.Resource).toEqual(tableArn)
    expect(grants('management', 'ssm:GetParameters')[0]!.Resource.map((r: Json) => r['Fn::Sub'].split(':parameter')[1])).toEqual(['/oidc-sts/test/token-keys', '/oidc-sts/test/root-credentials'])
    expect(grants('management', 'dynamodb:Scan')).toEqual([])
    expect(grants('management', 'events:PutEvents')).toEqual([])
    // It lists audit records and never writes one: that is the audit writer's alone.
    const denies = R.ManagementRole.Properties.Policies.flatMap((p: Json) => p.PolicyDocument.Statement).filter((s: Json) => s.Effect === 'Deny')
    expect(denies).toEqual([
      {
        Sid: 'NoAuditWrites',
        Effect: 'Deny',
        Action: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
        Resource: tableArn,
        Condition: { 'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': ['AUDIT#*'] } },
      },
    ])
  })

  it('lets the thumbprint check scan the issuer index, write health records and JWKS copies, and publish to the bus', () => {
    expect(grants('thumbprintCheck', 'dynamodb:Scan')).toEqual([expect.objectContaining({ Resource: indexArn })])
    expect(grants('thumbprintCheck', 'events:PutEvents')).toEqual([expect.objectContaining({ Resource: { 'Fn::GetAtt': ['EventBus', 'Arn'] } })])
    const leading = (a: string) => grants('thumbprintCheck', a).map((s) => s.Condition['ForAllValues:StringLike']['dynamodb:LeadingKeys']).flat().sort()
    // Health records have partitions of their own (HEALTH#<account>): nothing under ACCOUNT#, where the
    // providers, roles, policies and quota counters live, is within reach.
    expect(leading('dynamodb:GetItem')).toEqual(['HEALTH#*'])
    expect(leading('dynamodb:PutItem')).toEqual(['HEALTH#*', 'JWKS#*'])
    expect(leading('dynamodb:DeleteItem')).toEqual(['HEALTH#*'])
    for (const a of ['dynamodb:UpdateItem', 'dynamodb:Query', 'dynamodb:BatchWriteItem', 'ssm:GetParameters']) expect(grants('thumbprintCheck', a), a).toEqual([])
  })

  it('lets key refresh read the stream (keys only), query the index, read a provider\'s issuer and fingerprints, write JWKS copies only, and dead-letter', () => {
    expect(grants('keyRefresh', 'dynamodb:Query')).toEqual([expect.objectContaining({ Resource: indexArn })])
    const stream = statementsOf('keyRefresh').find((s) => actionsOf(s).includes('dynamodb:GetRecords'))!
    expect(actionsOf(stream).sort()).toEqual(['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator', 'dynamodb:ListStreams'])
    expect(stream.Resource).toEqual({ 'Fn::GetAtt': ['Table', 'StreamArn'] })
    const jwksCopies = { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['JWKS#*'] } }
    expect(grants('keyRefresh', 'dynamodb:PutItem').map((s) => s.Condition)).toEqual([jwksCopies])
    // Reads: the JWKS copies, and of a provider (ACCOUNT#), only what providerDirectory.get projects.
    expect(grants('keyRefresh', 'dynamodb:GetItem').map((s) => s.Condition)).toEqual([
      jwksCopies,
      {
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ACCOUNT#*'] },
        'ForAllValues:StringEquals': { 'dynamodb:Attributes': [...PROVIDER_READ_ATTRIBUTES] },
        StringEqualsIfExists: { 'dynamodb:Select': 'SPECIFIC_ATTRIBUTES' },
        Null: { 'dynamodb:Attributes': 'false' },
      },
    ])
    expect(grants('keyRefresh', 'sqs:SendMessage')).toEqual([expect.objectContaining({ Resource: { 'Fn::GetAtt': ['KeyRefreshDeadLetterQueue', 'Arn'] } })])
    for (const a of ['dynamodb:Scan', 'dynamodb:DeleteItem', 'dynamodb:UpdateItem', 'events:PutEvents']) expect(grants('keyRefresh', a), a).toEqual([])
  })

  it('lets the audit writer batch-write audit records only, and dead-letter', () => {
    const dynamo = statementsOf('auditWriter').filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')))
    expect(dynamo.flatMap(actionsOf)).toEqual(['dynamodb:BatchWriteItem'])
    expect(dynamo[0]).toMatchObject({ Resource: tableArn, Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['AUDIT#*'] } } })
    expect(grants('auditWriter', 'sqs:SendMessage')).toEqual([expect.objectContaining({ Resource: { 'Fn::GetAtt': ['AuditWriterDeadLetterQueue', 'Arn'] } })])
    for (const a of ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan', 'ssm:GetParameters', 'events:PutEvents']) expect(grants('auditWriter', a), a).toEqual([])
  })
})

describe('serverless package: timeouts of the functions behind the HTTP APIs', () => {
  // Lambda bounds the init phase of a cold start at 10 s (past it, the init reruns within the
  // invocation, under the function's timeout); API Gateway's integration timeout counts it too.
  const INIT_MAX_MS = 10_000
  // The sandbox's set-up before the init, and the invoke itself.
  const INVOKE_OVERHEAD_MS = 2_000
  const timeoutMs = (id: string) => (R[`${id}LambdaFunction`].Properties.Timeout as number) * 1000
  const integrationMs = (id: string) => R[`${id}Integration`].Properties.TimeoutInMilliseconds as number

  it('fits the worst case of an exchange (4 sequential reads, each 2 attempts at their bound, and the IdP budget) in the function timeout', () => {
    // Raw client: ≤ 25 ms of backoff between its attempts (raw-json-client.ts).
    const perRead = STORE_ATTEMPTS * EXCHANGE_STORE_REQUEST_TIMEOUT_MS + 25
    // Provider, JWKS copy, JWKS copy again (unknown kid, first read ≥ storedCopyCooldownMs), role; one IdP fetch.
    const idp = Math.min(FETCH_DEFAULTS.totalTimeoutMs, MAX_TIMEOUT_MS)
    const exchange = 4 * perRead + idp
    expect(exchange).toBeLessThanOrEqual(timeoutMs('TokenExchange') - 500)
    // GetCallerIdentity: the SDK client (≤ 50 ms backoff), AccessKey read and nonce write.
    expect(2 * (STORE_ATTEMPTS * EXCHANGE_STORE_REQUEST_TIMEOUT_MS + 50)).toBeLessThan(timeoutMs('TokenExchange'))
  })

  it('lets management answer 503 itself when the table stops answering, with room for several slow requests', () => {
    const perCall = STORE_ATTEMPTS * MANAGEMENT_STORE_REQUEST_TIMEOUT_MS + 50
    expect(4 * perCall).toBeLessThan(timeoutMs('Management'))
  })

  it.each(['TokenExchange', 'Management'])('gives the %s integration a timeout above a cold start\'s init plus the function timeout, within HTTP API\'s 30 s', (id) => {
    expect(integrationMs(id)).toBeGreaterThanOrEqual(INIT_MAX_MS + timeoutMs(id) + INVOKE_OVERHEAD_MS)
    expect(integrationMs(id)).toBeLessThanOrEqual(30_000)
  })

  it('passes those per-attempt bounds to the stores of the deployed functions (and keeps the defaults for DynamoDB Local)', () => {
    const source = (f: string) => readFileSync(join(REPO_ROOT, 'functions', f), 'utf8')
    expect(source('token-exchange.ts')).toMatch(/openExchangeStores\(config, deployedStoreTimeouts\(config\.dynamodbEndpoint, EXCHANGE_STORE_REQUEST_TIMEOUT_MS\)\)/)
    expect(source('management.ts')).toMatch(/openStores\(config, deployedStoreTimeouts\(config\.dynamodbEndpoint, MANAGEMENT_STORE_REQUEST_TIMEOUT_MS\)\)/)
  })
})

describe('serverless package: the audit table copy', () => {
  it('subscribes the audit writer to the token-exchange log group, audit lines only, once that group exists', async () => {
    const filters = Object.entries(R).filter(([, r]) => (r as Json).Type === 'AWS::Logs::SubscriptionFilter') as [string, Json][]
    expect(filters).toHaveLength(1)
    const [, f] = filters[0]!
    expect(f.Properties).toMatchObject({ LogGroupName: '/aws/lambda/oidc-sts-test-tokenExchange', FilterPattern: '{ $.msg = "audit" }', DestinationArn: { 'Fn::GetAtt': ['AuditWriterLambdaFunction', 'Arn'] } })
    expect(f.DependsOn).toEqual(expect.arrayContaining(['TokenExchangeLogGroup']))
    expect(R.TokenExchangeLogGroup.Properties.LogGroupName).toBe('/aws/lambda/oidc-sts-test-tokenExchange')
    // Two retries of a failed batch, then the dead-letter queue (watched by an alarm).
    expect(R.AuditWriterLambdaEvConf.Properties).toMatchObject({ MaximumRetryAttempts: 2, DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': ['AuditWriterDeadLetterQueue', 'Arn'] } } } })
    expect(R.AuditWriterDeadLettersAlarm.Properties.Dimensions[0].Value).toEqual({ 'Fn::GetAtt': ['AuditWriterDeadLetterQueue', 'QueueName'] })
    // The filter selects what the token-exchange function writes: every line of the sample is an audit line.
    const { decodeLogsData } = await import('../support/cloudwatch-logs.ts')
    for (const e of decodeLogsData(sample('cloudwatch-logs-audit.json') as never).logEvents) expect(JSON.parse(e.message).msg).toBe('audit')
  })
})
