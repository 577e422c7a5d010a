// The two SSM exports parameter-store.ts uses, import()ed from there on first use: a static re-export
// keeps tree-shaking (an import() of '@aws-sdk/client-ssm' itself would bundle every SSM command).
export { GetParametersCommand, SSMClient } from '@aws-sdk/client-ssm'
