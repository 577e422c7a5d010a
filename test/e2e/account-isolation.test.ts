// Accounts are isolated: the operator creates accounts A and B (CreateAccount, Version 2026-11-01);
// nothing one account does is visible to or changeable by the other, and only the operator creates accounts.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateAccountId } from '../../shared/services/accounts.ts'
import type { SigningCredentials } from '../../shared/signing/sign-request.ts'
import { callOverHttp } from './support/http-rpc.ts'
import { callActionWithSdk, ims, imsClient, sdkError, type ImsClient } from './support/ims-sdk.ts'
import { startListeningService, type ListeningService } from './support/listening-service.ts'

const ACCOUNTS = '2026-11-01'
const SHARED_NAME = 'shared-name'
const SHARED_ISSUER = 'https://idp.shared.example.com'

interface NewAccount {
  AccountId: string
  AccessKeyId: string
  AccessKeySecret: string
}

let svc: ListeningService
let a: NewAccount
let b: NewAccount
let clientA: ImsClient
let clientB: ImsClient

const credsOf = (acct: NewAccount): SigningCredentials => ({ accessKeyId: acct.AccessKeyId, secret: acct.AccessKeySecret })
const clientOf = (acct: NewAccount) => imsClient({ endpoint: svc.host, accessKeyId: acct.AccessKeyId, accessKeySecret: acct.AccessKeySecret })

async function createAccount(params: Record<string, string> = {}): Promise<NewAccount> {
  const res = await callOverHttp(svc.endpoint, svc.rootCreds, 'CreateAccount', ACCOUNTS, params)
  expect(res.status, JSON.stringify(res.body)).toBe(200)
  return res.body as unknown as NewAccount
}

const getProvider = (c: ImsClient, name = SHARED_NAME) => c.getOIDCProvider(new ims.GetOIDCProviderRequest({ OIDCProviderName: name }))
const listNames = async (c: ImsClient) =>
  ((await c.listOIDCProviders(new ims.ListOIDCProvidersRequest({}))).body?.OIDCProviders?.OIDCProvider ?? []).map((p) => ({ name: p.OIDCProviderName, arn: p.arn }))

beforeAll(async () => {
  svc = await startListeningService()
  a = await createAccount()
  b = await createAccount()
  clientA = clientOf(a)
  clientB = clientOf(b)
})
afterAll(async () => {
  await svc?.close()
})

describe('CreateAccount (operator only)', () => {
  it('gives each new account its own 16-digit AccountId and an AccessKey that works at once', async () => {
    expect(a.AccountId).toMatch(/^[1-9]\d{15}$/)
    expect(b.AccountId).toMatch(/^[1-9]\d{15}$/)
    expect(new Set([a.AccountId, b.AccountId, svc.root.AccountId]).size).toBe(3)
    expect(a.AccessKeyId).toMatch(/^LTAI[A-Za-z0-9]{20}$/)
    expect(a.AccessKeySecret).toMatch(/^[A-Za-z0-9]{30}$/)
    expect(a.AccessKeyId).not.toBe(b.AccessKeyId)
    expect(await listNames(clientA)).toEqual([])
    expect(await listNames(clientB)).toEqual([])
  })

  it('honours a requested AccountId and refuses it a second time with EntityAlreadyExists.Account (409)', async () => {
    const wanted = generateAccountId()
    const created = await createAccount({ AccountId: wanted })
    expect(created.AccountId).toBe(wanted)
    const again = await callOverHttp(svc.endpoint, svc.rootCreds, 'CreateAccount', ACCOUNTS, { AccountId: wanted })
    expect(again.status).toBe(409)
    expect(again.body.Code).toBe('EntityAlreadyExists.Account')
  })

  it('rejects an AccountId that is not 16 digits with InvalidParameter.AccountId.Length / .InvalidChars (400)', async () => {
    const short = await callOverHttp(svc.endpoint, svc.rootCreds, 'CreateAccount', ACCOUNTS, { AccountId: '123' })
    expect([short.status, short.body.Code]).toEqual([400, 'InvalidParameter.AccountId.Length'])
    const leadingZero = await callOverHttp(svc.endpoint, svc.rootCreds, 'CreateAccount', ACCOUNTS, { AccountId: '0123456789012345' })
    expect([leadingZero.status, leadingZero.body.Code]).toEqual([400, 'InvalidParameter.AccountId.InvalidChars'])
  })

  it('refuses CreateAccount from a non-operator account with NoPermission (403) and an AccessDeniedDetail, creating nothing', async () => {
    const wanted = generateAccountId()
    const res = await callOverHttp(svc.endpoint, credsOf(a), 'CreateAccount', ACCOUNTS, { AccountId: wanted })
    expect(res.status).toBe(403)
    expect(res.body.Code).toBe('NoPermission')
    expect(res.body.AccessDeniedDetail).toEqual({
      AuthAction: 'oidcsts:CreateAccount',
      AuthPrincipalType: 'Account',
      AuthPrincipalOwnerId: a.AccountId,
      AuthPrincipalDisplayName: a.AccountId,
      NoPermissionType: 'ImplicitDeny',
    })
    expect(JSON.stringify(res.body)).not.toContain(a.AccessKeySecret)
    // Nothing was created: the operator can still take that AccountId.
    expect((await createAccount({ AccountId: wanted })).AccountId).toBe(wanted)
  })

  it('surfaces the NoPermission detail through the official SDK as err.accessDeniedDetail', async () => {
    const err = await sdkError(callActionWithSdk(clientB, 'CreateAccount', ACCOUNTS))
    expect(err.code).toBe('NoPermission')
    expect(err.statusCode).toBe(403)
    expect(err.accessDeniedDetail).toMatchObject({ AuthAction: 'oidcsts:CreateAccount', AuthPrincipalOwnerId: b.AccountId, NoPermissionType: 'ImplicitDeny' })
  })

  it('lets the operator call CreateAccount through the SDK generic client as well', async () => {
    const operator = imsClient({ endpoint: svc.host, accessKeyId: svc.root.AccessKeyId, accessKeySecret: svc.root.AccessKeySecret })
    const res = await callActionWithSdk(operator, 'CreateAccount', ACCOUNTS)
    expect(res.statusCode).toBe(200)
    expect(res.body).toMatchObject({ AccountId: expect.stringMatching(/^\d{16}$/), AccessKeyId: expect.stringMatching(/^LTAI/) })
  })
})

// These run in file order: A registers shared-name first, B's attempts on it come before B registers its own.
describe('OIDC providers do not cross accounts', () => {
  let original: Record<string, unknown> | undefined

  beforeAll(async () => {
    const created = await clientA.createOIDCProvider(new ims.CreateOIDCProviderRequest({
      OIDCProviderName: SHARED_NAME,
      issuerUrl: SHARED_ISSUER,
      clientIds: 'a-client',
      fingerprints: '902ef2deeb3c5b13ea4c3d5193629309e231ae55',
      description: 'owned by A',
    }))
    original = created.body?.OIDCProvider?.toMap()
  })

  it("answers B's Get, Update, Delete and list-member changes on A's provider with EntityNotExist.OIDCProvider and leaves it unchanged", async () => {
    const attempts: Array<[string, () => Promise<unknown>]> = [
      ['Get', () => getProvider(clientB)],
      ['Update', () => clientB.updateOIDCProvider(new ims.UpdateOIDCProviderRequest({ OIDCProviderName: SHARED_NAME, newDescription: 'hijacked', clientIds: 'b-client' }))],
      ['Delete', () => clientB.deleteOIDCProvider(new ims.DeleteOIDCProviderRequest({ OIDCProviderName: SHARED_NAME }))],
      ['AddClientId', () => clientB.addClientIdToOIDCProvider(new ims.AddClientIdToOIDCProviderRequest({ OIDCProviderName: SHARED_NAME, clientId: 'b-client' }))],
      ['RemoveClientId', () => clientB.removeClientIdFromOIDCProvider(new ims.RemoveClientIdFromOIDCProviderRequest({ OIDCProviderName: SHARED_NAME, clientId: 'a-client' }))],
      ['AddFingerprint', () => clientB.addFingerprintToOIDCProvider(new ims.AddFingerprintToOIDCProviderRequest({ OIDCProviderName: SHARED_NAME, fingerprint: '6938fd4d98bab03faadb97b34396831e3780aea1' }))],
      ['RemoveFingerprint', () => clientB.removeFingerprintFromOIDCProvider(new ims.RemoveFingerprintFromOIDCProviderRequest({ OIDCProviderName: SHARED_NAME, fingerprint: '902ef2deeb3c5b13ea4c3d5193629309e231ae55' }))],
    ]
    for (const [what, attempt] of attempts) {
      const err = await sdkError(attempt())
      expect([what, err.code, err.statusCode]).toEqual([what, 'EntityNotExist.OIDCProvider', 404])
    }
    expect((await getProvider(clientA)).body?.OIDCProvider?.toMap()).toEqual(original)
  })

  it("lets B register its own shared-name with A's IssuerUrl (uniqueness is per account), each under its own account's ARN", async () => {
    const mine = await clientB.createOIDCProvider(new ims.CreateOIDCProviderRequest({ OIDCProviderName: SHARED_NAME, issuerUrl: SHARED_ISSUER, description: 'owned by B' }))
    expect(mine.body?.OIDCProvider).toMatchObject({ arn: `acs:ram::${b.AccountId}:oidc-provider/${SHARED_NAME}`, description: 'owned by B', issuerUrl: SHARED_ISSUER })
    expect((await getProvider(clientA)).body?.OIDCProvider).toMatchObject({ arn: `acs:ram::${a.AccountId}:oidc-provider/${SHARED_NAME}`, description: 'owned by A' })
    expect((await getProvider(clientB)).body?.OIDCProvider).toMatchObject({ arn: `acs:ram::${b.AccountId}:oidc-provider/${SHARED_NAME}`, description: 'owned by B' })
  })

  it('shows each account only its own providers in ListOIDCProviders', async () => {
    await clientA.createOIDCProvider(new ims.CreateOIDCProviderRequest({ OIDCProviderName: 'only-a', issuerUrl: 'https://idp.only-a.example.com' }))
    expect(await listNames(clientA)).toEqual([
      { name: 'only-a', arn: `acs:ram::${a.AccountId}:oidc-provider/only-a` },
      { name: SHARED_NAME, arn: `acs:ram::${a.AccountId}:oidc-provider/${SHARED_NAME}` },
    ])
    expect(await listNames(clientB)).toEqual([{ name: SHARED_NAME, arn: `acs:ram::${b.AccountId}:oidc-provider/${SHARED_NAME}` }])
    // The operator's own account sees neither.
    const operator = imsClient({ endpoint: svc.host, accessKeyId: svc.root.AccessKeyId, accessKeySecret: svc.root.AccessKeySecret })
    expect(await listNames(operator)).toEqual([])
  })

  it("keeps B's deletion of its own shared-name from touching A's", async () => {
    await clientB.deleteOIDCProvider(new ims.DeleteOIDCProviderRequest({ OIDCProviderName: SHARED_NAME }))
    expect((await sdkError(getProvider(clientB))).code).toBe('EntityNotExist.OIDCProvider')
    expect((await getProvider(clientA)).body?.OIDCProvider?.arn).toBe(`acs:ram::${a.AccountId}:oidc-provider/${SHARED_NAME}`)
  })
})
