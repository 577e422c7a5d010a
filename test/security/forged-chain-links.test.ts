// The registered fingerprint is matched against the chain OpenSSL validated, never against certificates
// a server merely sent. Node's getPeerCertificate(true) links the sent certificates by name and key
// identifier only, so a server with a valid chain from one CA could add a forged, expired certificate
// bearing its intermediate's name and key but "issued" by another CA's public certificate X (sent too):
// OpenSSL passes over the expired forgery and validates the real chain, node's list went leaf → forgery
// → X, and X's registered fingerprint matched (reproduced by a reviewer). And a chain OpenSSL refuses
// for a reason node reports as UNSPECIFIED (a SHA-1 signature) is an invalid chain, not an unreachable IdP.
// Real HTTPS servers on 127.0.0.1 and certificates made with the openssl CLI, as test/support/test-ca.ts does.

import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import https from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fetchHttpsJson } from '../../shared/oidc/https-fetch.ts'
import { OidcFetchError } from '../../shared/oidc/https-fetch-error.ts'
import { createTestPki, type TestPki } from '../support/test-ca.ts'

const run = promisify(execFile)
let dir: string
let legit: TestPki
let victim: TestPki
const openssl = async (args: string[]) => (await run('openssl', args, { cwd: dir })).stdout

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'oidc-sts-forged-'))
  legit = await createTestPki('Legit')
  victim = await createTestPki('Victim')
}, 60_000)
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function serve(cert: string, key = legit.leaf.keyPem): Promise<{ url: string; close: () => void }> {
  const server = https.createServer({ key, cert, ciphers: 'DEFAULT@SECLEVEL=0' }, (_req, res) => {
    res.setHeader('content-type', 'application/json')
    res.end('{"issuer":"x"}')
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  return { url: `https://127.0.0.1:${(server.address() as { port: number }).port}/.well-known/openid-configuration`, close: () => server.close() }
}

const outcome = (p: Promise<{ matchedFingerprint?: string }>) =>
  p.then(
    (r) => ({ accepted: r.matchedFingerprint }),
    (e: unknown) => (e instanceof OidcFetchError ? { refused: e.kind, detail: e.detail } : { threw: String(e) }),
  )

/** A forged certificate with the legit intermediate's name and key identifier, expired, "issued" by victim's X. */
async function forgedLink(): Promise<string> {
  const X = victim.intermediate
  await writeFile(join(dir, 'X.pem'), X.certPem)
  await writeFile(join(dir, 'I.pem'), legit.intermediate.certPem)
  const skid = async (f: string) => (await openssl(['x509', '-in', f, '-noout', '-ext', 'subjectKeyIdentifier'])).split('\n')[1]!.trim()
  const subject = async (f: string) => (await openssl(['x509', '-in', f, '-noout', '-subject', '-nameopt', 'compat'])).replace(/^subject=/, '').trim()
  const [xSkid, iSkid, xSubject, iSubject] = await Promise.all([skid('X.pem'), skid('I.pem'), subject('X.pem'), subject('I.pem')])
  const ext = (id: string, extra = '') => `basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=${id}\n${extra}`
  await writeFile(join(dir, 'cnf'), `[req]\ndistinguished_name=dn\n[dn]\n[fx]\n${ext(xSkid)}[fi]\n${ext(iSkid, 'authorityKeyIdentifier=keyid:always\n')}`)
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'k.pem'])
  // A self-made stand-in for X (X's name and key identifier, the forger's key), then the forged link signed by it.
  await openssl(['req', '-new', '-x509', '-config', 'cnf', '-key', 'k.pem', '-subj', xSubject, '-extensions', 'fx', '-days', '2', '-out', 'fakeX.pem'])
  await openssl(['req', '-new', '-config', 'cnf', '-key', 'k.pem', '-subj', iSubject, '-out', 'fi.csr'])
  await writeFile(join(dir, 'index.txt'), '')
  await writeFile(join(dir, 'serial'), '07\n')
  await writeFile(join(dir, 'ca.cnf'), `${await readFile(join(dir, 'cnf'), 'utf8')}[ca]\ndefault_ca=c\n[c]\ndatabase=${dir}/index.txt\nnew_certs_dir=${dir}\nserial=${dir}/serial\ndefault_md=sha256\npolicy=p\nunique_subject=no\n[p]\ncommonName=supplied\norganizationName=optional\n`)
  // Expired: OpenSSL's issuer search passes over it for the valid real intermediate.
  await openssl(['ca', '-batch', '-notext', '-config', 'ca.cnf', '-cert', 'fakeX.pem', '-keyfile', 'k.pem', '-in', 'fi.csr', '-out', 'fakeI.pem', '-extensions', 'fi', '-startdate', '20200101000000Z', '-enddate', '20200102000000Z'])
  return readFile(join(dir, 'fakeI.pem'), 'utf8')
}

describe('the fingerprint is matched on the validated chain only', () => {
  it('refuses a chain that reaches the registered certificate only through a forged link', async () => {
    const X = victim.intermediate
    const options = { fingerprints: [X.sha1], allowPrivate: true, ca: legit.root.certPem }
    // Control: X sent beside a valid chain it did not sign.
    const control = await serve(legit.leaf.certPem + legit.intermediate.certPem + X.certPem)
    expect(await outcome(fetchHttpsJson(control.url, options))).toMatchObject({ refused: 'fingerprint-mismatch' })
    control.close()
    const attack = await serve(legit.leaf.certPem + (await forgedLink()) + legit.intermediate.certPem + X.certPem)
    expect(await outcome(fetchHttpsJson(attack.url, options))).toMatchObject({ refused: 'fingerprint-mismatch' })
    attack.close()
    // The valid chain alone is accepted for its own intermediate.
    const honest = await serve(legit.leaf.certPem + legit.intermediate.certPem)
    expect(await outcome(fetchHttpsJson(honest.url, { ...options, fingerprints: [legit.intermediate.sha1] }))).toEqual({ accepted: legit.intermediate.sha1 })
    honest.close()
  }, 60_000)

  it('names a chain OpenSSL refuses as UNSPECIFIED (a SHA-1 signed leaf) an invalid certificate, not an unreachable IdP', async () => {
    await writeFile(join(dir, 'Iw.pem'), legit.intermediate.certPem)
    await writeFile(join(dir, 'Iw.key'), legit.intermediate.keyPem)
    await writeFile(join(dir, 'leaf.ext'), 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n')
    await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'weak.key'])
    await openssl(['req', '-new', '-key', 'weak.key', '-subj', '/CN=localhost', '-out', 'weak.csr'])
    await openssl(['x509', '-req', '-in', 'weak.csr', '-CA', 'Iw.pem', '-CAkey', 'Iw.key', '-set_serial', '101', '-days', '30', '-extfile', 'leaf.ext', '-sha1', '-out', 'weak.pem'])
    const server = await serve((await readFile(join(dir, 'weak.pem'), 'utf8')) + legit.intermediate.certPem, await readFile(join(dir, 'weak.key'), 'utf8'))
    const result = await outcome(fetchHttpsJson(server.url, { fingerprints: [legit.intermediate.sha1], allowPrivate: true, ca: legit.root.certPem }))
    server.close()
    expect(result).toMatchObject({ refused: 'certificate-invalid' })
  }, 60_000)
})
