// `npm run demo`: the whole OIDC federation story against a running `npm start`, printed step by step
// for a newcomer. It starts a local demo IdP over HTTPS (local/demo-idp.ts), registers it with its
// thumbprint (IMS CreateOIDCProvider), creates a role that trusts it (RAM CreateRole), exchanges an ID
// token for temporary credentials (STS AssumeRoleWithOIDC, sent exactly as the official credentials
// provider sends it) and calls GetCallerIdentity signed with them. Secrets are masked in the output.
// Re-runnable: every run first deletes what earlier runs left (providers and roles named oidc-sts-demo-*).
//
// Environment (the same variables and defaults as npm start and the accounts CLI):
//   OIDC_STS_ENDPOINT                           the service (default http://$HOST:$PORT/, i.e. http://127.0.0.1:8080/)
//   DATA_DIR                                    as given to npm start (default .data): root-credentials.json and the demo CA
//   ROOT_ACCESS_KEY_ID, ROOT_ACCESS_KEY_SECRET  the operator's AccessKey (default: DATA_DIR/root-credentials.json)

import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { percentEncode } from '../shared/signing/percent-encode.ts'
import { signRpcRequest, type SigningCredentials } from '../shared/signing/sign-request.ts'
import { formatUtc } from '../shared/time.ts'
import { ensureDemoCa, startDemoIdp, type DemoCa } from './demo-idp.ts'
import { rootCredentialsPath } from './root-credentials.ts'
import { fetchFailureCode, reachHint } from './reach-hint.ts'

const IMS = '2019-08-15'
const RAM = '2015-05-01'
const STS = '2015-04-01'
const PREFIX = 'oidc-sts-demo-'
const AUDIENCE = 'sts.aliyuncs.com'
const SUBJECT = 'repo:example-org/demo-app:ref:refs/heads/main'
const SESSION = 'demo-session'
const REQUEST_TIMEOUT_MS = 15_000

type Body = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any -- response bodies are printed and read field by field

/** A failure to print and exit 1 on; `hint` is shown after it. */
class DemoError extends Error {
  constructor(message: string, readonly hint?: string) {
    super(message)
  }
}

/** An error answer of the service, kept with its code. */
class ServiceError extends DemoError {
  constructor(readonly action: string, readonly status: number, readonly body: Body) {
    super(`${action} failed: HTTP ${status} ${String(body.Code ?? '')}: ${String(body.Message ?? '')}`)
  }
}

const out = (line = '') => process.stdout.write(`${line}\n`)
let stepNumber = 0
const step = (title: string) => {
  out()
  out(`── Step ${++stepNumber}: ${title}`)
}
const indent = (text: string) => text.split('\n').map((l) => `   ${l}`).join('\n')
const show = (label: string, value: unknown) => out(indent(`${label}\n${JSON.stringify(maskSecrets(value), null, 2)}`))

/** AccessKeySecret and SecurityToken shown as their first 4 characters and their length. */
function maskSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(maskSecrets)
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, /^(AccessKeySecret|SecurityToken)$/.test(k) && typeof v === 'string' ? mask(v) : maskSecrets(v)]))
}
const mask = (secret: string) => `${secret.slice(0, 4)}…(${secret.length} characters, masked)`

interface Target {
  endpoint: URL
  operator: SigningCredentials
  dataDir: string
}

function resolveEndpoint(env: NodeJS.ProcessEnv): URL {
  try {
    return new URL(env.OIDC_STS_ENDPOINT || `http://${env.HOST || '127.0.0.1'}:${env.PORT || '8080'}/`)
  } catch {
    throw new DemoError(`OIDC_STS_ENDPOINT is not a URL (got "${env.OIDC_STS_ENDPOINT}")`)
  }
}

/** The operator's AccessKey: from the environment, else the file npm start wrote into DATA_DIR. */
function resolveOperator(env: NodeJS.ProcessEnv, dataDir: string, startHint: string): SigningCredentials {
  if (env.ROOT_ACCESS_KEY_ID && env.ROOT_ACCESS_KEY_SECRET) return { accessKeyId: env.ROOT_ACCESS_KEY_ID, secret: env.ROOT_ACCESS_KEY_SECRET }
  const path = rootCredentialsPath(dataDir)
  let creds: { AccessKeyId?: unknown; AccessKeySecret?: unknown }
  try {
    creds = JSON.parse(readFileSync(path, 'utf8'))
  } catch (e) {
    throw new DemoError(
      `cannot read the operator credentials ${path} (${(e as NodeJS.ErrnoException).code ?? 'not JSON'}): has npm start run with this DATA_DIR?`,
      `${startHint}\n(or set ROOT_ACCESS_KEY_ID and ROOT_ACCESS_KEY_SECRET to the operator's AccessKey)`,
    )
  }
  if (typeof creds.AccessKeyId !== 'string' || typeof creds.AccessKeySecret !== 'string') throw new DemoError(`${path} has no AccessKeyId and AccessKeySecret`)
  return { accessKeyId: creds.AccessKeyId, secret: creds.AccessKeySecret }
}

/** The one command that starts a server able to reach and trust the demo IdP. */
function startCommand(ca: DemoCa, env: NodeJS.ProcessEnv, endpoint: URL): string {
  const dataDir = env.DATA_DIR ? `DATA_DIR=${env.DATA_DIR} ` : ''
  const effectivePort = endpoint.port || (endpoint.protocol === 'https:' ? '443' : '80')
  const port = effectivePort !== '8080' ? `PORT=${effectivePort} ` : ''
  return `${dataDir}${port}ALLOW_PRIVATE_ISSUERS=true NODE_EXTRA_CA_CERTS=${ca.caFile} npm start`
}

async function send(url: URL, init: RequestInit, what: string): Promise<{ status: number; body: Body }> {
  let res: Response
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })
  } catch (e) {
    const code = fetchFailureCode(e)
    throw new DemoError(`${what}: cannot reach oidc-sts at ${url.origin} (${code})`, reachHint(code, url.origin))
  }
  const text = await res.text()
  try {
    return { status: res.status, body: JSON.parse(text) as Body }
  } catch {
    throw new DemoError(`${what}: HTTP ${res.status} with a body that is not JSON: is ${url.origin} an oidc-sts endpoint?`)
  }
}

/** A signed RPC call (ACS3-HMAC-SHA256, as the official SDKs sign), parameters in the query string. */
async function call(t: Target, action: string, version: string, params: Record<string, string | number> = {}, creds = t.operator): Promise<Body> {
  const signed = signRpcRequest({ creds, action, version, params, host: t.endpoint.host, date: new Date(), nonce: randomBytes(16).toString('hex') })
  const { host: _host, ...headers } = signed.headers // fetch derives Host from the URL: the value signed
  const { status, body } = await send(new URL(signed.url, t.endpoint), { method: 'POST', headers, body: signed.body === '' ? undefined : signed.body }, action)
  if (status !== 200) throw new ServiceError(action, status, body)
  return body
}

/** Lists every page of a List* action. */
async function listAll(t: Target, action: string, version: string, items: (body: Body) => Body[]): Promise<Body[]> {
  const all: Body[] = []
  let marker: string | undefined
  do {
    const body = await call(t, action, version, marker ? { MaxItems: 100, Marker: marker } : { MaxItems: 100 })
    all.push(...items(body))
    marker = body.IsTruncated ? body.Marker : undefined
  } while (marker)
  return all
}

async function removeEarlierRuns(t: Target): Promise<void> {
  const roles = (await listAll(t, 'ListRoles', RAM, (b) => b.Roles?.Role ?? [])).filter((r) => String(r.RoleName).startsWith(PREFIX))
  for (const role of roles) {
    const attached = await call(t, 'ListPoliciesForRole', RAM, { RoleName: role.RoleName })
    for (const p of attached.Policies?.Policy ?? []) {
      await call(t, 'DetachPolicyFromRole', RAM, { RoleName: role.RoleName, PolicyType: p.PolicyType, PolicyName: p.PolicyName })
    }
    await call(t, 'DeleteRole', RAM, { RoleName: role.RoleName })
    out(indent(`deleted role ${role.RoleName}`))
  }
  const providers = (await listAll(t, 'ListOIDCProviders', IMS, (b) => b.OIDCProviders?.OIDCProvider ?? [])).filter((p) => String(p.OIDCProviderName).startsWith(PREFIX))
  for (const provider of providers) {
    await call(t, 'DeleteOIDCProvider', IMS, { OIDCProviderName: provider.OIDCProviderName })
    out(indent(`deleted OIDC provider ${provider.OIDCProviderName}`))
  }
  if (roles.length === 0 && providers.length === 0) out(indent('nothing to remove'))
}

async function main(env: NodeJS.ProcessEnv): Promise<void> {
  const endpoint = resolveEndpoint(env)
  const dataDir = env.DATA_DIR || '.data'
  out(`oidc-sts demo against ${endpoint.href}`)

  step('A demo CA for the demo IdP (made once, kept in DATA_DIR)')
  const ca = await ensureDemoCa(dataDir)
  out(indent(`${ca.created ? 'created' : 'reusing'} ${ca.caFile}`))
  out(indent('The server fetches the IdP\'s keys over HTTPS, so it must trust this CA (NODE_EXTRA_CA_CERTS)'))
  out(indent('and allow an issuer on 127.0.0.1 (ALLOW_PRIVATE_ISSUERS=true; keep it off in production).'))
  const startHint = `Start the server in another terminal with:\n\n  ${startCommand(ca, env, endpoint)}\n\nthen run \`npm run demo\` again.`

  // Nothing listening: start it. Something listening otherwise (HTTPS, an untrusted certificate): say that instead.
  const health = await send(new URL('/health', endpoint), {}, 'GET /health').catch((e: unknown) => {
    throw new DemoError((e as Error).message, (e as DemoError).hint ?? startHint)
  })
  if (health.status !== 200) throw new DemoError(`GET /health answered HTTP ${health.status}`)
  const target: Target = { endpoint, dataDir, operator: resolveOperator(env, dataDir, startHint) }
  await call(target, 'ListOIDCProviders', IMS, { MaxItems: 1 }) // the operator credentials work

  step('Start the demo IdP (HTTPS on 127.0.0.1: discovery + JWKS)')
  const idp = await startDemoIdp(ca, (method, path) => out(indent(`   [demo IdP] ${method} ${path}`)))
  try {
    out(indent(`issuer:    ${idp.issuer}`))
    out(indent(`discovery: ${idp.issuer}/.well-known/openid-configuration`))

    step('Compute its thumbprint: SHA-1 of the last certificate it sends (here the demo CA)')
    out(indent(`thumbprint: ${ca.thumbprint}`))
    out(indent('For a real IdP, with openssl: README, "Walkthrough", step 3 ("Compute the thumbprint").'))

    step(`Remove what earlier demo runs left (${PREFIX}*)`)
    await removeEarlierRuns(target)

    const name = `${PREFIX}${randomBytes(3).toString('hex')}`
    step('Register the IdP: IMS CreateOIDCProvider')
    const provider = await call(target, 'CreateOIDCProvider', IMS, {
      OIDCProviderName: name,
      IssuerUrl: idp.issuer,
      Fingerprints: ca.thumbprint,
      ClientIds: AUDIENCE,
      IssuanceLimitTime: 12,
      Description: 'npm run demo',
    })
    show('response:', provider)
    const providerArn = String(provider.OIDCProvider?.Arn)

    step('Create a role that trusts tokens of this IdP: RAM CreateRole')
    const trust = {
      Version: '1',
      Statement: [{
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Principal: { Federated: [providerArn] },
        Condition: {
          StringEquals: { 'oidc:iss': idp.issuer, 'oidc:aud': AUDIENCE },
          StringLike: { 'oidc:sub': 'repo:example-org/demo-app:*' },
        },
      }],
    }
    show('trust policy (AssumeRolePolicyDocument):', trust)
    const role = await call(target, 'CreateRole', RAM, { RoleName: name, AssumeRolePolicyDocument: JSON.stringify(trust), Description: 'npm run demo' })
    show('response:', role)
    const roleArn = String(role.Role?.Arn)

    step('The IdP issues an ID token (what a CI job or a pod receives)')
    const token = idp.signIdToken({ sub: SUBJECT, aud: AUDIENCE })
    const [header, payload] = token.split('.').slice(0, 2).map((part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown)
    show('header:', header)
    show('claims:', payload)
    out(indent(`token: ${token.slice(0, 32)}… (${token.length} characters)`))

    step('Exchange it: STS AssumeRoleWithOIDC (anonymous: the token is the credential)')
    out(indent('sent as @alicloud/credentials sends it: POST /?Action=AssumeRoleWithOIDC&... with a form body'))
    const query = { Version: STS, Action: 'AssumeRoleWithOIDC', Format: 'JSON', Timestamp: formatUtc(Date.now()) }
    const form = { OIDCProviderArn: providerArn, OIDCToken: token, RoleArn: roleArn, RoleSessionName: SESSION, DurationSeconds: '3600' }
    const encode = (o: Record<string, string>) => Object.entries(o).map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&')
    const exchanged = await send(new URL(`/?${encode(query)}`, target.endpoint), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: encode(form),
    }, 'AssumeRoleWithOIDC')
    if (exchanged.status !== 200) {
      const code = String(exchanged.body.Code)
      if (code === 'AuthenticationFail.OIDCToken.HttpsUrlInvalid' || code === 'AuthenticationFail.OIDCToken.IssuerConfigurationBroken') {
        throw new DemoError(
          `AssumeRoleWithOIDC failed: ${code}: ${String(exchanged.body.Message)}`,
          `The server cannot fetch the demo IdP's keys: it must trust the demo CA and allow a loopback issuer.\nStop it (Ctrl-C) and start it with:\n\n  ${startCommand(ca, env, endpoint)}\n\nthen run \`npm run demo\` again.`,
        )
      }
      throw new ServiceError('AssumeRoleWithOIDC', exchanged.status, exchanged.body)
    }
    show('response:', exchanged.body)
    const c = exchanged.body.Credentials as { AccessKeyId: string; AccessKeySecret: string; SecurityToken: string }

    step('Use the temporary credentials: STS GetCallerIdentity signed with them')
    const who = await call(target, 'GetCallerIdentity', STS, {}, { accessKeyId: c.AccessKeyId, secret: c.AccessKeySecret, securityToken: c.SecurityToken })
    show('response:', who)

    out()
    out(`Done: a token from ${idp.issuer} became the session ${String(who.Arn)}.`)
    out('Next: register your real IdP the same way (README, "Walkthrough: from zero to a working exchange").')
  } finally {
    await idp.close()
  }
}

try {
  await main(process.env)
} catch (e) {
  if (e instanceof DemoError) {
    process.stderr.write(`\noidc-sts demo: ${e.message}\n`)
    if (e.hint) process.stderr.write(`\n${e.hint}\n`)
  } else {
    process.stderr.write(`\noidc-sts demo: unexpected failure: ${(e as Error).stack ?? String(e)}\n`)
  }
  process.exitCode = 1
}
