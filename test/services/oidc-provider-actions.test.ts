import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { IMS, startTestService, type TestService } from '../support/service.ts'

let svc: TestService
beforeAll(async () => { svc = await startTestService() })
afterAll(async () => { await svc?.close() })

describe('OIDC provider lifecycle', () => {
  it('creates, reads, updates and deletes a provider with the §3.2 object shape', async () => {
    const created = await svc.call('CreateOIDCProvider', IMS, {
      OIDCProviderName: 'gh-actions',
      IssuerUrl: 'https://token.actions.githubusercontent.com',
      Fingerprints: '6938FD4D98BAB03FAADB97B34396831E3780AEA1',
      ClientIds: 'sts.aliyuncs.com,https://github.com/octo-org',
      Description: 'GitHub Actions',
    })
    expect(created.status).toBe(200)
    const p = created.body.OIDCProvider
    expect(p).toMatchObject({
      OIDCProviderName: 'gh-actions',
      Arn: `acs:ram::${svc.root.AccountId}:oidc-provider/gh-actions`,
      IssuerUrl: 'https://token.actions.githubusercontent.com',
      Fingerprints: '6938fd4d98bab03faadb97b34396831e3780aea1',
      ClientIds: 'sts.aliyuncs.com,https://github.com/octo-org',
      IssuanceLimitTime: 12,
      Description: 'GitHub Actions',
    })
    expect(p.CreateDate).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
    expect(typeof p.GmtCreate).toBe('number')
    expect(created.body.RequestId).toMatch(/^[0-9A-F-]{36}$/)

    const got = await svc.call('GetOIDCProvider', IMS, { OIDCProviderName: 'gh-actions' })
    expect(got.body.OIDCProvider).toEqual(p)

    const updated = await svc.call('UpdateOIDCProvider', IMS, { OIDCProviderName: 'gh-actions', NewDescription: 'changed', IssuanceLimitTime: 1 })
    expect(updated.body.OIDCProvider).toMatchObject({ Description: 'changed', IssuanceLimitTime: 1, ClientIds: p.ClientIds })

    // ClientIds on update replaces the whole list: shrinking, reordering and clearing leave nothing behind.
    const clientIds = async (value: string) => {
      const res = await svc.call('UpdateOIDCProvider', IMS, { OIDCProviderName: 'gh-actions', ClientIds: value })
      expect(res.status).toBe(200)
      const stored = (await svc.call('GetOIDCProvider', IMS, { OIDCProviderName: 'gh-actions' })).body.OIDCProvider.ClientIds
      expect(res.body.OIDCProvider.ClientIds).toBe(stored)
      return stored
    }
    expect(await clientIds('a,b,c')).toBe('a,b,c')
    expect(await clientIds('b')).toBe('b')
    expect(await clientIds('c,a')).toBe('c,a')
    expect(await clientIds('')).toBe('')

    expect((await svc.call('DeleteOIDCProvider', IMS, { OIDCProviderName: 'gh-actions' })).status).toBe(200)
    const gone = await svc.call('GetOIDCProvider', IMS, { OIDCProviderName: 'gh-actions' })
    expect(gone.status).toBe(404)
    expect(gone.body.Code).toBe('EntityNotExist.OIDCProvider')
  })
})
