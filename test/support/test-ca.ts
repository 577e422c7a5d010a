// Test PKI made per run with the openssl CLI: root CA -> intermediate CA -> leaf for 127.0.0.1/localhost.
// (openssl rather than @peculiar/x509: that library needs a Reflect metadata polyfill this project does not ship.)
import { execFile } from 'node:child_process'
import { createHash, X509Certificate } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)
const DAY_MS = 86_400_000

export interface TestCert {
  readonly certPem: string
  readonly keyPem: string
  /** DER bytes of the certificate. */
  readonly der: Buffer
  /** SHA-1 of the DER bytes, 40 lower-case hex digits: what an operator registers (spec §6). */
  readonly sha1: string
  /** Common name, as given. */
  readonly name: string
  readonly notAfter: Date
}

export interface TestPki {
  readonly root: TestCert
  readonly intermediate: TestCert
  readonly leaf: TestCert
  /** What a server usually sends: leaf then intermediate (PEM). */
  readonly leafAndIntermediatePem: string
}

export interface ValidityOptions {
  notBefore?: Date
  notAfter?: Date
}

export interface LeafOptions extends ValidityOptions {
  /** DNS names; default ['localhost']. */
  dnsNames?: string[]
  /** IP addresses; default ['127.0.0.1', '::1']. */
  ips?: string[]
  commonName?: string
}

/** openssl's `YYYYMMDDHHMMSSZ`. */
const asn1Time = (d: Date) => d.toISOString().replace(/[-:T]/g, '').replace(/\.\d{3}Z$/, 'Z')
// CN/O only ever come from this file's callers; keep them to characters that need no escaping in -subj.
const safeName = (name: string) => {
  if (!/^[A-Za-z0-9 ._-]{1,64}$/.test(name)) throw new Error(`test-ca: unsupported name ${JSON.stringify(name)}`)
  return name
}

function config(dir: string, leaf: { dns: string[]; ips: string[] }): string {
  const alt = [...leaf.dns.map((d, i) => `DNS.${i + 1} = ${d}`), ...leaf.ips.map((ip, i) => `IP.${i + 1} = ${ip}`)]
  return `[ca]
default_ca = ca_default
[ca_default]
database = ${dir}/index.txt
new_certs_dir = ${dir}
serial = ${dir}/serial
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
[policy_any]
commonName = supplied
organizationName = optional
[req]
distinguished_name = dn
prompt = no
[dn]
CN = placeholder
[v3_root]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[v3_intermediate]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
[v3_leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
${alt.length > 0 ? 'subjectAltName = @alt\n[alt]\n' + alt.join('\n') : ''}
`
}

async function toTestCert(certPem: string, keyPem: string, name: string): Promise<TestCert> {
  const x = new X509Certificate(certPem)
  return {
    certPem,
    keyPem,
    der: x.raw,
    sha1: createHash('sha1').update(x.raw).digest('hex'),
    name,
    notAfter: new Date(x.validTo),
  }
}

async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'oidc-sts-ca-'))
  try {
    return await fn(dir)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

async function generateKey(dir: string): Promise<string> {
  const file = join(dir, 'key.pem')
  await run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file])
  return file
}

async function sign(
  issuer: TestCert,
  subject: string,
  extensions: 'v3_intermediate' | 'v3_leaf',
  validity: Required<ValidityOptions>,
  leaf: { dns: string[]; ips: string[] },
): Promise<{ certPem: string; keyPem: string }> {
  return withDir(async (dir) => {
    const cnf = join(dir, 'openssl.cnf')
    await writeFile(cnf, config(dir, leaf))
    await writeFile(join(dir, 'index.txt'), '')
    await writeFile(join(dir, 'serial'), createHash('sha1').update(`${Math.random()}${Date.now()}`).digest('hex').slice(0, 16) + '\n')
    await writeFile(join(dir, 'ca.pem'), issuer.certPem)
    await writeFile(join(dir, 'ca.key'), issuer.keyPem)
    const key = await generateKey(dir)
    await run('openssl', ['req', '-new', '-config', cnf, '-key', key, '-subj', subject, '-out', join(dir, 'req.csr')])
    await run('openssl', [
      'ca', '-batch', '-notext', '-config', cnf, '-cert', join(dir, 'ca.pem'), '-keyfile', join(dir, 'ca.key'),
      '-in', join(dir, 'req.csr'), '-out', join(dir, 'cert.pem'), '-extensions', extensions,
      '-startdate', asn1Time(validity.notBefore), '-enddate', asn1Time(validity.notAfter),
    ])
    return { certPem: await readFile(join(dir, 'cert.pem'), 'utf8'), keyPem: await readFile(key, 'utf8') }
  })
}

/** A self-signed root CA (valid one year). */
export async function createRootCa(name = 'oidc-sts Test Root CA'): Promise<TestCert> {
  const cn = safeName(name)
  return withDir(async (dir) => {
    const cnf = join(dir, 'openssl.cnf')
    await writeFile(cnf, config(dir, { dns: [], ips: [] }))
    const key = await generateKey(dir)
    const out = join(dir, 'cert.pem')
    await run('openssl', [
      'req', '-new', '-x509', '-config', cnf, '-key', key, '-subj', `/CN=${cn}/O=oidc-sts tests`,
      '-days', '365', '-extensions', 'v3_root', '-set_serial', '0x' + createHash('sha1').update(cn + Math.random()).digest('hex').slice(0, 16), '-out', out,
    ])
    return toTestCert(await readFile(out, 'utf8'), await readFile(key, 'utf8'), cn)
  })
}

/** A CA certificate (pathlen 0) signed by `issuer`. */
export async function issueIntermediate(issuer: TestCert, name = 'oidc-sts Test Intermediate CA', validity: ValidityOptions = {}): Promise<TestCert> {
  const cn = safeName(name)
  const now = Date.now()
  const { certPem, keyPem } = await sign(
    issuer,
    `/CN=${cn}/O=oidc-sts tests`,
    'v3_intermediate',
    { notBefore: validity.notBefore ?? new Date(now - DAY_MS), notAfter: validity.notAfter ?? new Date(now + 180 * DAY_MS) },
    { dns: [], ips: [] },
  )
  return toTestCert(certPem, keyPem, cn)
}

/** A TLS server certificate signed by `issuer`, valid for localhost, 127.0.0.1 and ::1 by default. */
export async function issueLeaf(issuer: TestCert, options: LeafOptions = {}): Promise<TestCert> {
  const cn = safeName(options.commonName ?? 'localhost')
  const now = Date.now()
  const { certPem, keyPem } = await sign(
    issuer,
    `/CN=${cn}`,
    'v3_leaf',
    { notBefore: options.notBefore ?? new Date(now - DAY_MS), notAfter: options.notAfter ?? new Date(now + 90 * DAY_MS) },
    { dns: options.dnsNames ?? ['localhost'], ips: options.ips ?? ['127.0.0.1', '::1'] },
  )
  return toTestCert(certPem, keyPem, cn)
}

/** Root -> intermediate -> leaf. Call again with another name for a second, unrelated CA (rotation tests). */
export async function createTestPki(name = 'oidc-sts Test', leaf: LeafOptions = {}): Promise<TestPki> {
  const root = await createRootCa(`${name} Root CA`)
  const intermediate = await issueIntermediate(root, `${name} Intermediate CA`)
  const leafCert = await issueLeaf(intermediate, leaf)
  return { root, intermediate, leaf: leafCert, leafAndIntermediatePem: leafCert.certPem + intermediate.certPem }
}
