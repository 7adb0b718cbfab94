/** A fuzz campaign as JUnit XML: one test case per campaign (shard), failed by its finding. */
import type { CampaignResult } from './campaign.ts';
import { renderProgram } from './render.ts';

const xml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function toJunit(result: CampaignResult, name: string, reproPath: string | null): string {
  const f = result.failure;
  const seconds = (result.elapsedMs / 1000).toFixed(3);
  const body =
    f === null
      ? ''
      : `\n      <failure message="${xml(`${f.violation.oracle}: ${f.violation.message}`)}" type="${xml(f.violation.oracle)}">${xml(
          `${f.violation.message}\nrepro file: ${reproPath ?? '(not written)'}\n${renderProgram(f.program)}`,
        )}</failure>\n    `;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="tasklet-rt fuzz" tests="1" failures="${f ? 1 : 0}" time="${seconds}">`,
    `  <testsuite name="tasklet-rt fuzz" tests="1" failures="${f ? 1 : 0}" time="${seconds}">`,
    `    <testcase classname="fuzz" name="${xml(name)}" time="${seconds}">${body}</testcase>`,
    '  </testsuite>',
    '</testsuites>',
    '',
  ].join('\n');
}
