// Counts passed, failed and skipped assertions in the raw TAP files tap saves per test file
// (.tap/test-results), flattening subtests, and prints "N passed, N failed[, N skipped]".
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Parser } from 'tap-parser';

const root = process.argv[2] ?? '.tap/test-results';
const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (p.endsWith('.tap')) files.push(p);
  }
};
try {
  walk(root);
} catch {
  console.log('0 passed, 1 failed');
  process.exit(0);
}

let pass = 0;
let fail = 0;
let skip = 0;
// Count leaf assertions at every depth; a subtest's own closing point only summarises its children.
const count = (parser) => {
  parser.on('child', count);
  parser.on('assert', (a) => {
    if (a.closingTestPoint) return;
    if (a.skip || a.todo) skip++;
    else if (a.ok) pass++;
    else fail++;
  });
};
for (const file of files) {
  const parser = new Parser();
  let leafFailures = 0;
  const before = fail;
  count(parser);
  parser.on('complete', (r) => {
    leafFailures = fail - before;
    // A file that bailed out, timed out or threw outside an assertion is not ok with no failed leaf.
    if (!r.ok && leafFailures === 0) fail++;
  });
  parser.end(readFileSync(file));
}
console.log(`${pass} passed, ${fail} failed${skip ? `, ${skip} skipped` : ''}`);
