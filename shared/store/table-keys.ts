// Key layouts of the single table (see the access-pattern table in table.ts). No imports: the raw hot-path
// reads (hot-reads.ts) use them without loading the AWS SDK or dynamodb-toolbox.
export const ACCOUNT_SK = 'ACCOUNT'
export const accountPk = (accountId: string) => `ACCOUNT#${accountId}`
/**
 * Provider health records have a partition of their own per account, so the health check's IAM role
 * (dynamodb:LeadingKeys, which cannot condition on the sort key) reaches them and nothing of the account.
 */
export const healthPk = (accountId: string) => `HEALTH#${accountId}`
export const PROVIDER_PREFIX = 'OIDCPROVIDER#'
export const ROLE_PREFIX = 'ROLE#'
export const POLICY_PREFIX = 'POLICY#'
export const SYSTEM_POLICY_USE_PREFIX = 'SYSPOLICYUSE#'
/** All attachments of one role: `ATTACH#<lower-cased role name>#`. */
export const attachmentPrefix = (roleKey: string) => `ATTACH#${roleKey}#`
