// First line of every test run: which Node runs the project (CI logs must show Node 24, not the
// machine's own Node).
const major = Number(process.versions.node.split('.')[0]);
console.log(`node ${process.version} (${process.execPath})`);
if (major !== 24) {
  console.error(`airlock needs Node 24 LTS, found ${process.version}: run "npm ci" so node_modules/.bin/node is used`);
  process.exit(1);
}
