// The official IMS SDK (@alicloud/ims20190815), changed only in its endpoint, drives every OIDC provider
// action over real HTTP, and our error codes reach its error objects.

import type { IncomingMessage } from 'node:http'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { imsClient, ims, sdkError, type ImsClient } from './support/ims-sdk.ts'
import { startListeningService, type ListeningService } from './support/listening-service.ts'

const FINGERPRINT_A = '902EF2DEEB3C5B13EA4C3D5193629309E231AE55'
const FINGERPRINT_B = '6938FD4D98BAB03FAADB97B34396831E3780AEA1'
const AWKWARD_DESCRIPTION = 'demo (OIDC) *test* for 中文 é — 😀'

let svc: ListeningService
let client: ImsClient

beforeAll(async () => {
  svc = await startListeningService()
  client = imsClient({ endpoint: svc.host, accessKeyId: svc.root.AccessKeyId, accessKeySecret: svc.root.AccessKeySecret })
})
afterAll(async () => {
  await svc?.close()
})

const create = (name: string, issuerUrl: string, extra: Record<string, unknown> = {}) =>
  client.createOIDCProvider(new ims.CreateOIDCProviderRequest({ OIDCProviderName: name, issuerUrl, ...extra }))
const get = (name: string, c: ImsClient = client) => c.getOIDCProvider(new ims.GetOIDCProviderRequest({ OIDCProviderName: name }))

describe('OIDC provider actions through the official IMS SDK', () => {
  it('creates a provider, normalising upper-case fingerprints to lower case and keeping an awkward description intact', async () => {
    const res = await create('sdk-create', 'https://idp.sdk-create.example.com', {
      fingerprints: `${FINGERPRINT_A},${FINGERPRINT_B}`,
      clientIds: 'sts.aliyuncs.com,https://github.com/octo-org',
      description: AWKWARD_DESCRIPTION,
      issuanceLimitTime: 6,
    })
    expect(res.statusCode).toBe(200)
    expect(res.body?.requestId).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/)
    expect(res.body?.OIDCProvider).toMatchObject({
      OIDCProviderName: 'sdk-create',
      arn: `acs:ram::${svc.root.AccountId}:oidc-provider/sdk-create`,
      issuerUrl: 'https://idp.sdk-create.example.com',
      fingerprints: `${FINGERPRINT_A.toLowerCase()},${FINGERPRINT_B.toLowerCase()}`,
      clientIds: 'sts.aliyuncs.com,https://github.com/octo-org',
      description: AWKWARD_DESCRIPTION,
      issuanceLimitTime: 6,
    })
    expect(res.body?.OIDCProvider?.createDate).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
  })

  it('reads a provider back with the same fields the create returned', async () => {
    const created = await create('sdk-get', 'https://idp.sdk-get.example.com', { clientIds: 'app-1', description: AWKWARD_DESCRIPTION })
    const got = await get('sdk-get')
    expect(got.body?.OIDCProvider).toEqual(created.body?.OIDCProvider)
    expect(got.body?.requestId).not.toBe(created.body?.requestId)
  })

  it('pages through ListOIDCProviders with MaxItems and Marker until IsTruncated is false, returning each provider once in name order', async () => {
    const lister = await startListeningService() // its own account table, so only these five exist
    try {
      const c = imsClient({ endpoint: lister.host, accessKeyId: lister.root.AccessKeyId, accessKeySecret: lister.root.AccessKeySecret })
      const names = ['page-e', 'page-a', 'page-d', 'page-b', 'page-c']
      for (const name of names) {
        await c.createOIDCProvider(new ims.CreateOIDCProviderRequest({ OIDCProviderName: name, issuerUrl: `https://${name}.example.com` }))
      }
      const first = await c.listOIDCProviders(new ims.ListOIDCProvidersRequest({ maxItems: 2 }))
      expect(first.body?.isTruncated).toBe(true)
      expect(first.body?.marker).toEqual(expect.any(String))
      expect(first.body?.OIDCProviders?.OIDCProvider).toHaveLength(2)

      const seen = (first.body?.OIDCProviders?.OIDCProvider ?? []).map((p) => p.OIDCProviderName)
      let marker = first.body?.marker
      let pages = 1
      while (marker !== undefined) {
        const page = await c.listOIDCProviders(new ims.ListOIDCProvidersRequest({ maxItems: 2, marker }))
        pages++
        expect(page.body?.OIDCProviders?.OIDCProvider?.length).toBeLessThanOrEqual(2)
        seen.push(...(page.body?.OIDCProviders?.OIDCProvider ?? []).map((p) => p.OIDCProviderName))
        if (page.body?.isTruncated) {
          expect(page.body.marker).toEqual(expect.any(String))
          marker = page.body.marker
        } else {
          expect(page.body?.marker).toBeUndefined()
          marker = undefined
        }
        expect(pages).toBeLessThanOrEqual(3)
      }
      expect(pages).toBe(3)
      expect(seen).toEqual(['page-a', 'page-b', 'page-c', 'page-d', 'page-e'])
    } finally {
      await lister.close()
    }
  })

  it('updates the description, replaces the whole client ID set and changes IssuanceLimitTime', async () => {
    await create('sdk-update', 'https://idp.sdk-update.example.com', { clientIds: 'old-1,old-2', description: 'before', fingerprints: FINGERPRINT_A })
    const res = await client.updateOIDCProvider(new ims.UpdateOIDCProviderRequest({
      OIDCProviderName: 'sdk-update',
      newDescription: AWKWARD_DESCRIPTION,
      clientIds: 'new-1,new-2,new-3',
      issuanceLimitTime: 168,
    }))
    expect(res.body?.OIDCProvider).toMatchObject({
      description: AWKWARD_DESCRIPTION,
      clientIds: 'new-1,new-2,new-3',
      issuanceLimitTime: 168,
      issuerUrl: 'https://idp.sdk-update.example.com',
      fingerprints: FINGERPRINT_A.toLowerCase(),
    })
    expect((await get('sdk-update')).body?.OIDCProvider).toMatchObject({ description: AWKWARD_DESCRIPTION, clientIds: 'new-1,new-2,new-3', issuanceLimitTime: 168 })
  })

  it('adds and removes a client ID', async () => {
    await create('sdk-clients', 'https://idp.sdk-clients.example.com', { clientIds: 'first' })
    const added = await client.addClientIdToOIDCProvider(new ims.AddClientIdToOIDCProviderRequest({ OIDCProviderName: 'sdk-clients', clientId: 'https://second.example.com/app' }))
    expect(added.body?.OIDCProvider?.clientIds).toBe('first,https://second.example.com/app')
    const removed = await client.removeClientIdFromOIDCProvider(new ims.RemoveClientIdFromOIDCProviderRequest({ OIDCProviderName: 'sdk-clients', clientId: 'first' }))
    expect(removed.body?.OIDCProvider?.clientIds).toBe('https://second.example.com/app')
    expect((await get('sdk-clients')).body?.OIDCProvider?.clientIds).toBe('https://second.example.com/app')
  })

  it('adds a fingerprint given in upper case (stored lower case) and removes one given in upper case', async () => {
    await create('sdk-prints', 'https://idp.sdk-prints.example.com', { fingerprints: FINGERPRINT_A })
    const added = await client.addFingerprintToOIDCProvider(new ims.AddFingerprintToOIDCProviderRequest({ OIDCProviderName: 'sdk-prints', fingerprint: FINGERPRINT_B }))
    expect(added.body?.OIDCProvider?.fingerprints).toBe(`${FINGERPRINT_A.toLowerCase()},${FINGERPRINT_B.toLowerCase()}`)
    const removed = await client.removeFingerprintFromOIDCProvider(new ims.RemoveFingerprintFromOIDCProviderRequest({ OIDCProviderName: 'sdk-prints', fingerprint: FINGERPRINT_A }))
    expect(removed.body?.OIDCProvider?.fingerprints).toBe(FINGERPRINT_B.toLowerCase())
  })

  it('deletes a provider, after which Get fails with EntityNotExist.OIDCProvider', async () => {
    await create('sdk-delete', 'https://idp.sdk-delete.example.com')
    const res = await client.deleteOIDCProvider(new ims.DeleteOIDCProviderRequest({ OIDCProviderName: 'sdk-delete' }))
    expect(res.statusCode).toBe(200)
    expect(res.body?.requestId).toEqual(expect.any(String))
    const err = await sdkError(get('sdk-delete'))
    expect(err.code).toBe('EntityNotExist.OIDCProvider')
  })
})

describe('our error codes arrive in the SDK error objects', () => {
  it('reports an unknown provider as EntityNotExist.OIDCProvider with status 404 and the RequestId in err.data', async () => {
    const err = await sdkError(get('no-such-provider'))
    expect(err.name).toBe('ClientError')
    expect(err.code).toBe('EntityNotExist.OIDCProvider')
    expect(err.statusCode).toBe(404)
    expect(err.data.RequestId).toMatch(/^[0-9A-F-]{36}$/)
    expect(err.data.Code).toBe('EntityNotExist.OIDCProvider')
    expect(err.data.HostId).toBe(svc.host)
  })

  it('rejects a second provider with a taken name as EntityAlreadyExists.OIDCProvider (409)', async () => {
    await create('sdk-dup-name', 'https://idp.dup-name-1.example.com')
    const err = await sdkError(create('sdk-dup-name', 'https://idp.dup-name-2.example.com'))
    expect(err.code).toBe('EntityAlreadyExists.OIDCProvider')
    expect(err.statusCode).toBe(409)
  })

  it('rejects a second provider with a registered IssuerUrl as EntityAlreadyExists.OIDCProvider.Url (409)', async () => {
    await create('sdk-dup-url-1', 'https://idp.dup-url.example.com')
    const err = await sdkError(create('sdk-dup-url-2', 'https://idp.dup-url.example.com'))
    expect(err.code).toBe('EntityAlreadyExists.OIDCProvider.Url')
    expect(err.statusCode).toBe(409)
  })

  it('rejects a plain-http IssuerUrl as InvalidParameter.IssuerUrl.Format (400)', async () => {
    const err = await sdkError(create('sdk-http-issuer', 'http://idp.example.com'))
    expect(err.code).toBe('InvalidParameter.IssuerUrl.Format')
    expect(err.statusCode).toBe(400)
  })

  it('rejects a call signed with a wrong AccessKeySecret as SignatureDoesNotMatch', async () => {
    const wrong = imsClient({ endpoint: svc.host, accessKeyId: svc.root.AccessKeyId, accessKeySecret: `${svc.root.AccessKeySecret}x` })
    const err = await sdkError(wrong.listOIDCProviders(new ims.ListOIDCProvidersRequest({})))
    expect(err.code).toBe('SignatureDoesNotMatch')
    expect(err.statusCode).toBe(400)
  })

  it('rejects an AccessKeyId the service never issued as InvalidAccessKeyId.NotFound', async () => {
    const stranger = imsClient({ endpoint: svc.host, accessKeyId: 'LTAIneverIssuedKey000000', accessKeySecret: svc.root.AccessKeySecret })
    const err = await sdkError(stranger.listOIDCProviders(new ims.ListOIDCProvidersRequest({})))
    expect(err.code).toBe('InvalidAccessKeyId.NotFound')
    expect(err.statusCode).toBe(404)
  })
})

describe('legacy V1 (HMAC-SHA1) signatures from the SDK', () => {
  it("serves GetOIDCProvider signed V1-style when the SDK is configured with signatureAlgorithm 'v2'", async () => {
    await create('sdk-v1', 'https://idp.sdk-v1.example.com', { description: AWKWARD_DESCRIPTION })
    const v1 = imsClient({ endpoint: svc.host, accessKeyId: svc.root.AccessKeyId, accessKeySecret: svc.root.AccessKeySecret, signatureAlgorithm: 'v2' })
    const wire: Array<{ url: string; authorization: string | undefined }> = []
    const observe = (req: IncomingMessage) => wire.push({ url: req.url ?? '', authorization: req.headers.authorization })
    svc.app.server.on('request', observe)
    try {
      const res = await get('sdk-v1', v1)
      expect(res.body?.OIDCProvider).toMatchObject({ OIDCProviderName: 'sdk-v1', description: AWKWARD_DESCRIPTION })
    } finally {
      svc.app.server.off('request', observe)
    }
    // It really was V1: HMAC-SHA1 Signature in the query, no ACS3 Authorization header.
    expect(wire).toHaveLength(1)
    const query = new URLSearchParams(wire[0]!.url.split('?')[1])
    expect(query.get('SignatureMethod')).toBe('HMAC-SHA1')
    expect(query.get('SignatureVersion')).toBe('1.0')
    expect(query.get('Signature')).toMatch(/^[A-Za-z0-9+/]{27}=$/)
    expect(query.get('Action')).toBe('GetOIDCProvider')
    expect(wire[0]!.authorization).toBeUndefined()
  })

  it('rejects a V1 call with a wrong secret as SignatureDoesNotMatch', async () => {
    const v1 = imsClient({ endpoint: svc.host, accessKeyId: svc.root.AccessKeyId, accessKeySecret: `${svc.root.AccessKeySecret}x`, signatureAlgorithm: 'v2' })
    const err = await sdkError(get('sdk-v1', v1))
    expect(err.code).toBe('SignatureDoesNotMatch')
  })
})
