// Serverless Framework (osls) plugin: bundles the functions with build/bundle.mjs before packaging,
// deploying a single function, or `serverless invoke local`, so handlers point at .build/<name>/index.mjs.
'use strict'

const { writeFile } = require('node:fs/promises')
const { join } = require('node:path')

class BundlePlugin {
  constructor(serverless) {
    this.serverless = serverless
    this.hooks = {
      'before:package:createDeploymentArtifacts': () => this.bundle(),
      'before:deploy:function:packageFunction': () => this.bundle(),
      'before:invoke:local:invoke': () => this.bundleForInvokeLocal(),
    }
  }

  async bundle() {
    const { bundleAll } = await import('./bundle.mjs')
    const root = this.serverless.serviceDir ?? process.cwd()
    const out = await bundleAll(root)
    this.serverless.cli.log(`bundled ${Object.keys(out).join(', ')}`)
    return { root, out }
  }

  // osls loads local handlers with require(), which finds `index.js`, not `.mjs`, and cannot load an ES
  // module with top-level await (the HTTP functions build their app at init). A CommonJS shim next to each
  // bundle imports the real bundle on the first call, so `invoke local` runs exactly what Lambda runs.
  // The deployment artifacts contain only index.mjs.
  async bundleForInvokeLocal() {
    const { root, out } = await this.bundle()
    await writeFile(join(root, '.build', 'package.json'), '{"type":"commonjs"}\n')
    const shim = "'use strict'\nexports.handler = async (event, context) => (await import('./index.mjs')).handler(event, context)\n"
    for (const file of Object.values(out)) await writeFile(file.replace(/\.mjs$/, '.js'), shim)
  }
}

module.exports = BundlePlugin
