// The shape of one RPC action: parse (pure validation), authorize (which policy action on which
// resource), run. The dispatcher calls them in that order, so a rejected request changes nothing.

import type { ApiError } from '../errors.ts'
import type { PolicyDocument } from '../policy/document.ts'
import type { Params } from '../validation/params.ts'

export type Product = 'Ims' | 'Ram' | 'Sts' | 'OidcSts'

/** Who signed the request. `root` is an account's long-term AccessKey. */
export type Caller =
  | { type: 'root'; accountId: string; accessKeyId: string; operator: boolean }
  | {
      type: 'assumed-role'
      accountId: string
      accessKeyId: string
      roleName: string
      roleId: string
      sessionName: string
      /** The session policy the credentials were issued with: it narrows the role's policies, never widens them. */
      sessionPolicy?: PolicyDocument
    }

export interface RequestInfo {
  requestId: string
  now: Date
  sourceIp: string
  /**
   * Whether the request came over TLS (the `acs:SecureTransport` condition key): always on Lambda
   * (API Gateway's HTTP APIs answer HTTPS only), else the connection's own protocol (`npm start`
   * serves plain HTTP); never a client's X-Forwarded-Proto.
   */
  secureTransport: boolean
}

/**
 * A value of an action's own condition key: the value itself, undefined when the request has none, or
 * a function reading it (from the store), which the authorizer calls only when a policy that could
 * apply to the call tests that key, so a read costs nothing to the callers whose policies never ask.
 */
export type ConditionKeyValue = string | undefined | (() => Promise<string | undefined>)

/** What a call needs from the policy engine (shared/auth/authorize.ts). */
export interface Permission {
  /** `ram:<Action>` / `sts:<Action>`. */
  action: string
  /**
   * The ARN acted on; an action on two (AttachPolicyToRole: the role and the policy) names both, and
   * the call is allowed only when every one of them is (a Deny on either refuses it).
   */
  resource: string | readonly string[]
  /**
   * Condition keys of this action (`ram:OidcIssuerUrl` for the OIDC provider actions), added to the
   * keys every signed call has (acs:SourceIp, acs:CurrentTime, acs:AccessId, acs:SecureTransport),
   * which an action cannot override. The one place an action brings its own keys.
   */
  context?: Readonly<Record<string, ConditionKeyValue>>
}

export interface ActionDefinition<Input = unknown, Deps = unknown> {
  product: Product
  version: string
  name: string
  /** Anonymous actions (AssumeRoleWithOIDC) authenticate by their own means. */
  anonymous?: boolean
  /** Only the operator (the bootstrap account's key) may call it, e.g. CreateAccount. */
  operatorOnly?: boolean
  /** Any authenticated caller may call it without a permission (GetCallerIdentity). */
  anyCaller?: boolean
  /**
   * The action writes its own audit line for every outcome (AssumeRoleWithOIDC), carrying the request
   * id, outcome and error code: the dispatcher then writes no second `request` line for it (one log
   * line per exchange), except for a 5xx, which is always logged with its cause.
   */
  audited?: boolean
  parse(params: Params): Input
  /**
   * For an `audited` action: records a request for it that was refused before `run` could (a duplicated
   * or malformed parameter, a body too large), given the parameters that could be read leniently.
   */
  rejected?(params: Params, ctx: Pick<ActionContext<Deps>, 'deps' | 'request'>, error: ApiError): void
  /**
   * The policy action and resource this call needs, e.g. `ram:GetOIDCProvider` on the provider ARN,
   * and the condition keys only this action can supply (`deps` for a key that needs a read).
   */
  permission?(input: Input, caller: Caller, deps: Deps): Permission
  run(input: Input, ctx: ActionContext<Deps>): Promise<Record<string, unknown> | JsonMembers>
}

/**
 * A response body whose members are already JSON text: `"Name":value,...`, without the braces. The
 * dispatcher puts the RequestId in front of them instead of serialising an object. For bodies with
 * large values of a known alphabet (the SecurityToken, ~1 KB of base64url), which JSON.stringify would
 * otherwise scan for characters to escape one by one (~20 instructions per character here): whoever
 * builds one is responsible for every value in it being valid JSON.
 */
export class JsonMembers {
  constructor(readonly json: string) {}
}

export interface ActionContext<Deps> {
  caller: Caller | undefined
  deps: Deps
  request: RequestInfo
}

/** `const define = actionsWith<MyDeps>()`: then `define({...})` infers each action's input type. */
export function actionsWith<Deps>() {
  return <Input>(def: ActionDefinition<Input, Deps>): ActionDefinition<Input, Deps> => def
}

/** The calling account of a signed action (the dispatcher guarantees a caller for non-anonymous actions). */
export function callerAccount(caller: Caller | undefined): string {
  if (!caller) throw new Error('signed action reached without a caller')
  return caller.accountId
}
