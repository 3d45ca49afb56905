// Prints, as JSON, the MJML vocabulary of the reference compiler: each component's allowed attributes and
// which tags each may hold. digest/render/mjml_vocabulary.py is this, in Python (a test compares them).
// Usage: node .ci/mjml_vocabulary.js .ci   (the folder holding node_modules/mjml)
const base = (process.argv[2] || '.ci') + '/node_modules/';
require(base + 'mjml'); // registers every component
const core = require(base + 'mjml-core');
const deps = require(base + 'mjml-validator').dependencies;
const out = {components: {}, dependencies: deps};
for (const [name, c] of Object.entries(core.components)) {
  out.components[c.componentName || name] = {attributes: Object.keys(c.allowedAttributes || {}).sort()};
}
console.log(JSON.stringify(out, null, 1));
