// Serverless Framework (osls) plugin: bundles the functions with build/bundle.mjs before packaging,
// deploying a single function, or `serverless invoke local`, so handlers point at .build/<name>/index.mjs.
'use strict'

class BundlePlugin {
  constructor(serverless) {
    this.serverless = serverless
    const run = () => this.bundle()
    this.hooks = {
      'before:package:createDeploymentArtifacts': run,
      'before:deploy:function:packageFunction': run,
      'before:invoke:local:invoke': run,
    }
  }

  async bundle() {
    const { bundleAll } = await import('./bundle.mjs')
    const root = this.serverless.serviceDir ?? process.cwd()
    const out = await bundleAll(root)
    this.serverless.cli.log(`bundled ${Object.keys(out).join(', ')}`)
  }
}

module.exports = BundlePlugin
