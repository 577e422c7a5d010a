// The machine's floors, in a process of their own: node:crypto RS256 and ES256 verification with a
// cached KeyObject, AES-256-GCM sealing of a session-sized payload, HMAC-SHA256 over a canonical
// request; next to each, the service's own wrapper of that primitive, and jose's WebCrypto path as
// the reference the verification choice was made against. Median of rounds, ops/s and µs/op.

import { constants, createCipheriv, createHash, createHmac, createPublicKey, generateKeyPairSync, randomBytes, sign, verify } from 'node:crypto'
import { compactVerify, importJWK } from 'jose'
import { randomPooledBytes } from '../../shared/credentials/random-pool.ts'
import { sealSecurityToken, SECURITY_TOKEN_VERSION } from '../../shared/credentials/seal.ts'
import { createTokenKeyRing, generateTokenKey } from '../../shared/credentials/token-keys.ts'
import { verifyJwsSignature } from '../../shared/oidc/jws-algorithms.ts'
import { buildCanonicalRequestV3, signV3, stringToSignV3 } from '../../shared/signing/acs3.ts'
import { signRpcRequest } from '../../shared/signing/sign-request.ts'
import { say, writeResult } from '../lib/context.ts'
import { summarize } from '../lib/stats.ts'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7)
const ROUND_MS = Number(process.env.BENCH_FLOOR_ROUND_MS ?? 300)

function measureSync(fn: () => unknown, budgetMs: number): number {
  let n = 0
  const t0 = performance.now()
  let elapsed = 0
  while (elapsed < budgetMs) {
    for (let i = 0; i < 20; i++) fn()
    n += 20
    elapsed = performance.now() - t0
  }
  return (n / elapsed) * 1000
}

async function measureAsync(fn: () => Promise<unknown>, budgetMs: number): Promise<number> {
  let n = 0
  const t0 = performance.now()
  let elapsed = 0
  while (elapsed < budgetMs) {
    for (let i = 0; i < 20; i++) await fn()
    n += 20
    elapsed = performance.now() - t0
  }
  return (n / elapsed) * 1000
}

// A realistic signing input: a GitHub Actions-shaped ID token's header.payload (~1.1 KB).
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
const payload = b64({ jti: 'a3c1f9e4-b2d8-4c7e-9f5a-b3c2d1e0f9a8', sub: 'repo:octo-org/app:ref:refs/heads/main', aud: 'sts.aliyuncs.com', ref: 'refs/heads/main', sha: 'a3c1f9e4b2d8c7e6f5a4b3c2d1e0f9a8b7c6d5e4', repository: 'octo-org/app', repository_owner: 'octo-org', run_id: '9876543210', workflow: 'deploy', job_workflow_ref: 'octo-org/app/.github/workflows/deploy.yml@refs/heads/main', iss: 'https://token.actions.githubusercontent.com', iat: 1795865979, exp: 1795869579 })
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const rsInput = Buffer.from(`${b64({ alg: 'RS256', kid: 'k1', typ: 'JWT' })}.${payload}`)
const esInput = Buffer.from(`${b64({ alg: 'ES256', kid: 'k2', typ: 'JWT' })}.${payload}`)
const rsSig = sign('sha256', rsInput, rsa.privateKey)
const esSig = sign('sha256', esInput, { key: ec.privateKey, dsaEncoding: 'ieee-p1363' })
// Keys as the JWKS cache holds them: KeyObjects imported once from the JWK.
const rsKey = createPublicKey({ key: rsa.publicKey.export({ format: 'jwk' }), format: 'jwk' })
const esKey = createPublicKey({ key: ec.publicKey.export({ format: 'jwk' }), format: 'jwk' })
if (!verify('sha256', rsInput, { key: rsKey, padding: constants.RSA_PKCS1_PADDING }, rsSig)) throw new Error('RS256 floor does not verify')
if (!verify('sha256', esInput, { key: esKey, dsaEncoding: 'ieee-p1363' }, esSig)) throw new Error('ES256 floor does not verify')
if (!verifyJwsSignature('RS256', rsKey, rsInput, rsSig) || !verifyJwsSignature('ES256', esKey, esInput, esSig)) throw new Error('verifyJwsSignature does not verify')
const joseRs = await importJWK({ ...rsa.publicKey.export({ format: 'jwk' }), alg: 'RS256' }, 'RS256')
const joseEs = await importJWK({ ...ec.publicKey.export({ format: 'jwk' }), alg: 'ES256' }, 'ES256')
const rsJws = `${rsInput.toString()}.${rsSig.toString('base64url')}`
const esJws = `${esInput.toString()}.${esSig.toString('base64url')}`

// A session-sized SecurityToken payload (what mintCredentials seals: ~560 bytes of JSON).
const ring = createTokenKeyRing([generateTokenKey()])
const session = {
  v: SECURITY_TOKEN_VERSION,
  account: '1234567890123456',
  roleArn: 'acs:ram::1234567890123456:role/benchdeployer',
  roleName: 'BenchDeployer',
  roleId: '312345678901234567',
  sessionName: 'bench-session',
  akid: 'STS.NUEHhFw3mYEeSJ36ftWg7kRd',
  secret: 'BdgTMhjJhcN6SdwAxP2mFqVLHr7YSDCq1YDWkkt8nAvn',
  iat: 1795865979,
  exp: 1795869579,
  providerArn: 'acs:ram::1234567890123456:oidc-provider/bench-ci',
  sub: 'repo:octo-org/app:ref:refs/heads/main',
  issuer: 'https://token.actions.githubusercontent.com',
} as const
const sessionJson = JSON.stringify(session)
// The same work as sealSecurityToken's cipher: the ring's KeyObject and AAD, the IV from the same
// pooled CSPRNG (not a randomBytes() call more), no copy when final() returns nothing. What the floor
// leaves out is the wrapper: JSON.stringify, base64url, the compact form.
const { key: aesKey, aad } = ring.current
const rawSeal = () => {
  const c = createCipheriv('aes-256-gcm', aesKey, randomPooledBytes(12), { authTagLength: 16 })
  c.setAAD(aad)
  const ct = c.update(sessionJson, 'utf8')
  const rest = c.final()
  return [ct, rest, c.getAuthTag()]
}

// A canonical request as a signed GetOIDCProvider produces it (V3), and its signing secret.
const secret = 'BdgTMhjJhcN6SdwAxP2mFqVLHr7Y'
const signed = signRpcRequest({ creds: { accessKeyId: 'LTAI5tExampleKeyId000', secret }, action: 'GetOIDCProvider', version: '2019-08-15', params: { OIDCProviderName: 'bench-ci' }, host: 'ims.example.com', date: new Date(), nonce: randomBytes(16).toString('hex') })
const signedHeaders = signed.headers.authorization!.split('SignedHeaders=')[1]!.split(',')[0]!.split(';')
const canonicalInput = { method: 'POST', path: '/', query: [['OIDCProviderName', 'bench-ci']] as const, headers: signed.headers, hashedPayload: signed.headers['x-acs-content-sha256']! }
const canonical = buildCanonicalRequestV3(canonicalInput, signedHeaders)
const rawHmac = () => createHmac('sha256', secret).update(`ACS3-HMAC-SHA256\n${createHash('sha256').update(canonical).digest('hex')}`).digest('hex')
const oursHmac = () => signV3(secret, stringToSignV3(buildCanonicalRequestV3(canonicalInput, signedHeaders)))
if (rawHmac() !== oursHmac()) throw new Error('HMAC floor and acs3 disagree')

const cases: Array<[string, () => unknown, boolean]> = [
  ['rs256.nodeCrypto', () => verify('sha256', rsInput, { key: rsKey, padding: constants.RSA_PKCS1_PADDING }, rsSig), false],
  ['rs256.verifyJwsSignature', () => verifyJwsSignature('RS256', rsKey, rsInput, rsSig), false],
  ['rs256.joseWebCrypto', () => compactVerify(rsJws, joseRs), true],
  ['es256.nodeCrypto', () => verify('sha256', esInput, { key: esKey, dsaEncoding: 'ieee-p1363' }, esSig), false],
  ['es256.verifyJwsSignature', () => verifyJwsSignature('ES256', esKey, esInput, esSig), false],
  ['es256.joseWebCrypto', () => compactVerify(esJws, joseEs), true],
  ['aesGcm.nodeCrypto', rawSeal, false],
  ['aesGcm.sealSecurityToken', () => sealSecurityToken(session, ring), false],
  ['hmac.nodeCrypto', rawHmac, false],
  ['hmac.acs3Signature', oursHmac, false],
]

say('floors: warming up')
for (const [, fn, isAsync] of cases) isAsync ? await measureAsync(fn as () => Promise<unknown>, 200) : measureSync(fn, 200)
const rounds: Record<string, number[]> = Object.fromEntries(cases.map(([name]) => [name, []]))
for (let r = 0; r < ROUNDS; r++) {
  for (const [name, fn, isAsync] of cases) rounds[name]!.push(isAsync ? await measureAsync(fn as () => Promise<unknown>, ROUND_MS) : measureSync(fn, ROUND_MS))
}
say('floors: done')
writeResult({
  rounds: ROUNDS,
  roundMs: ROUND_MS,
  sizes: { signingInputBytes: rsInput.length, sessionPayloadBytes: Buffer.byteLength(sessionJson), canonicalRequestBytes: Buffer.byteLength(canonical) },
  opsPerSec: Object.fromEntries(Object.entries(rounds).map(([k, v]) => [k, summarize(v)])),
})
process.exit(0)
