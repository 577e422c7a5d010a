// Wires a set of actions to the store-backed authenticator and authorizer: the one composition used by
// both Lambda HTTP handlers and the local runner.

import { createAuthenticator } from './auth/authenticate.ts'
import { authorizeRequest } from './auth/authorize.ts'
import type { Config } from './config.ts'
import type { ActionDefinition } from './http/action.ts'
import { buildApp } from './http/app.ts'
import type { Logger } from './log.ts'
import type { Stores } from './store/stores.ts'

export interface ServiceAppOptions {
  config: Config
  stores: Stores
  logger: Logger
  actions: ReadonlyArray<ActionDefinition<any, Stores>> // eslint-disable-line @typescript-eslint/no-explicit-any
  https?: { cert: Buffer; key: Buffer }
  clock?: () => Date
}

export function buildServiceApp(opts: ServiceAppOptions) {
  return buildApp({
    actions: opts.actions,
    deps: opts.stores,
    authenticate: createAuthenticator({ accounts: opts.stores.accounts, nonces: opts.stores.nonces, windowSeconds: opts.config.signatureWindowSeconds }),
    authorize: authorizeRequest,
    logger: opts.logger,
    ...(opts.https ? { https: opts.https } : {}),
    ...(opts.clock ? { clock: opts.clock } : {}),
  })
}
