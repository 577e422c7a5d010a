// The system policies the service ships (PolicyType "System"): defined here in code, the same in every
// account, attachable to roles, never creatable (their names are reserved) nor deletable. Alibaba ships
// hundreds; these cover the service's own actions (ram:* includes the IMS OIDC provider actions, spec §3).

import { parsePolicyDocument, serializePolicyDocument, type PolicyDocument } from '../policy/document.ts'

export interface SystemPolicy {
  readonly name: string
  readonly description: string
  readonly document: PolicyDocument
  /** serializePolicyDocument(document): what GetPolicy returns. */
  readonly documentText: string
  /** Epoch ms; fixed so responses are stable across deployments. */
  readonly createdAt: number
  readonly updatedAt: number
}

// The day these definitions were written; change `updatedAt` when a document changes.
const SHIPPED = Date.UTC(2026, 10, 1)

function systemPolicy(name: string, description: string, statement: Record<string, unknown>): SystemPolicy {
  // Parsed through the same grammar as customer documents: a typo here fails at module load.
  const document = parsePolicyDocument(JSON.stringify({ Version: '1', Statement: [statement] }), 'permission')
  return Object.freeze({ name, description, document, documentText: serializePolicyDocument(document), createdAt: SHIPPED, updatedAt: SHIPPED })
}

export const SYSTEM_POLICIES: readonly SystemPolicy[] = Object.freeze(
  [
    systemPolicy('AliyunRAMFullAccess', 'Full access to RAM roles and policies and to IMS OIDC providers.', {
      Effect: 'Allow',
      Action: 'ram:*',
      Resource: '*',
    }),
    systemPolicy('AliyunRAMReadOnlyAccess', 'Read-only access to RAM roles and policies and to IMS OIDC providers.', {
      Effect: 'Allow',
      Action: ['ram:Get*', 'ram:List*'],
      Resource: '*',
    }),
    systemPolicy('AliyunSTSAssumeRoleAccess', 'Permission to call STS AssumeRole.', {
      Effect: 'Allow',
      Action: 'sts:AssumeRole',
      Resource: '*',
    }),
  ].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
)

const BY_NAME = new Map(SYSTEM_POLICIES.map((p) => [p.name, p]))
const LOWER_NAMES = new Set(SYSTEM_POLICIES.map((p) => p.name.toLowerCase()))

export function findSystemPolicy(name: string): SystemPolicy | undefined {
  return BY_NAME.get(name)
}

/** Custom policies may not take a system policy's name in any letter case (it would read as the system one). */
export function isReservedPolicyName(name: string): boolean {
  return LOWER_NAMES.has(name.toLowerCase())
}
