// Prints "N passed, N failed[, N skipped]" from tap's results: with --totals-from <log>, tap's own
// final totals line; when that line is missing (tap died), by counting the leaf assertions in the
// raw TAP files tap saves per test file (.tap/test-results).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Parser } from 'tap-parser';

const args = process.argv.slice(2);
if (args[0] === '--totals-from') {
  const log = readFileSync(args[1], 'utf8');
  const lines = log.split('\n').filter((l) => /^# \{ total: \d+/.test(l));
  const last = lines.at(-1);
  if (last) {
    const n = (k) => Number(new RegExp(`\\b${k}: (\\d+)`).exec(last)?.[1] ?? 0);
    const skipped = n('skip') + n('todo');
    console.log(`${n('pass')} passed, ${n('fail')} failed${skipped ? `, ${skipped} skipped` : ''}`);
    process.exit(0);
  }
  args.splice(0, 2);
}
const root = args[0] ?? '.tap/test-results';
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
