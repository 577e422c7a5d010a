// The official IMS SDK (@alicloud/ims20190815) pointed at a local listener: exactly what a user gets by
// changing only the endpoint.

import imsModule, * as ims from '@alicloud/ims20190815'
import { Config, OpenApiRequest, Params } from '@alicloud/openapi-client'

// A CommonJS module with `exports.default = Client`: Node's ESM loader hands over module.exports (the
// class under `.default`), while vitest honours `__esModule` and hands over the class itself.
type ImsClientClass = typeof imsModule.default
const ImsClient: ImsClientClass = (imsModule as unknown as { default?: ImsClientClass }).default ?? (imsModule as unknown as ImsClientClass)
export type ImsClient = InstanceType<ImsClientClass>

export { ims }

export function imsClient(opts: {
  /** `host:port`, as the SDK's `endpoint` config takes it. */
  endpoint: string
  accessKeyId: string
  accessKeySecret: string
  /** `'v2'` makes openapi-core sign RPC calls with the legacy V1 HMAC-SHA1 scheme. */
  signatureAlgorithm?: 'v2'
}): ImsClient {
  return new ImsClient(new Config({ ...opts, protocol: 'http' }))
}

/** What the SDK's ClientError / ServerError carry (openapi-core builds them from our error envelope). */
export interface SdkError {
  name: string
  code: string
  statusCode: number
  // The parsed error envelope and AccessDeniedDetail, asserted field by field.
  data: Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any
  accessDeniedDetail?: Record<string, unknown>
}

/** The SDK error a call is expected to fail with; a resolved call fails the test. */
export async function sdkError(call: Promise<unknown>): Promise<SdkError> {
  try {
    await call
  } catch (e) {
    return e as SdkError
  }
  throw new Error('expected the SDK call to fail, but it succeeded')
}

/**
 * Any RPC action (e.g. the operator extension CreateAccount) through the SDK's generic `callApi`: the
 * same V3 signing and error handling as the generated methods.
 */
export async function callActionWithSdk(client: ImsClient, action: string, version: string, query: Record<string, string> = {}): Promise<Record<string, unknown>> {
  type CallApi = ImsClient['callApi']
  const params = new Params({ action, version, protocol: 'HTTP', pathname: '/', method: 'POST', authType: 'AK', style: 'RPC', reqBodyType: 'formData', bodyType: 'json' })
  const request = new OpenApiRequest({ query })
  // openapi-client's models carry the same fields openapi-core reads; the runtime options may be empty.
  const res = await client.callApi(params as unknown as Parameters<CallApi>[0], request as unknown as Parameters<CallApi>[1], {} as Parameters<CallApi>[2])
  return res as Record<string, unknown>
}
