// Runs cdk-nag's AwsSolutions pack (npm cdk-nag, pinned in package-lock.json) over a synthesized
// template, and compares its findings with the reviewed acknowledgements in acknowledged.json.
//
// The template is loaded into a stack of aws-cdk-lib (npm) with CfnInclude, so every resource is the
// L1 construct the rules inspect, exactly as cdk-nag sees the resources of a CDK app; the findings are
// those of AwsSolutionsChecks.validateScope. A finding is named as cdk-nag names it (e.g.
// AwsSolutions-IAM5[Resource::*]) and placed by the resource's construct path (the template's
// aws:cdk:path metadata without the stack name, e.g. Functions/Register/ServiceRole/DefaultPolicy/Resource).
//
// acknowledged.json: {"acknowledged": [{"rule": ..., "resource": ..., "reason": ...}]}: the rule is the
// finding's name exactly, except that {*} stands for any text (finding names hold literal *s, as in
// Resource::*); the resource is a glob of the path (* within a segment, ** across segments); the
// reason says why the finding stays. Exit 0 when every finding is acknowledged and every acknowledgement matches
// a finding; 1 otherwise (listing the new findings and the stale acknowledgements); 2 for bad options.
//   node tools/cdk-nag/check.mjs --template cdk.out/Rapid.template.json [--acknowledged FILE] [--json]
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { App, Stack } from 'aws-cdk-lib';
import { CfnInclude } from 'aws-cdk-lib/cloudformation-include';
import { AwsSolutionsChecks } from 'cdk-nag';

const { values } = parseArgs({
  options: {
    template: { type: 'string' },
    acknowledged: { type: 'string', default: join(dirname(fileURLToPath(import.meta.url)), 'acknowledged.json') },
    json: { type: 'boolean', default: false },
  },
});
if (!values.template) {
  console.error('usage: node tools/cdk-nag/check.mjs --template cdk.out/Rapid.template.json [--acknowledged FILE] [--json]');
  process.exit(2);
}

const template = JSON.parse(readFileSync(values.template, 'utf8'));
const acknowledged = JSON.parse(readFileSync(values.acknowledged, 'utf8')).acknowledged;
for (const [i, a] of acknowledged.entries())
  if (!a.rule || !a.resource || !a.reason?.trim()) {
    console.error(`${values.acknowledged}: acknowledgement ${i} needs a rule, a resource and a reason`);
    process.exit(2);
  }

const app = new App();
const stack = new Stack(app, 'Nag');
const include = new CfnInclude(stack, 'Template', { templateFile: values.template });
const report = new AwsSolutionsChecks(app).validateScope(stack);

/** The resource's path in the Rapid app (aws:cdk:path without the stack name), else its logical id. */
const includePrefix = `${include.node.path}/`;
function resourcePath(constructPath) {
  const logicalId = constructPath.startsWith(includePrefix) ? constructPath.slice(includePrefix.length).split('/')[0] : constructPath;
  const path = template.Resources?.[logicalId]?.Metadata?.['aws:cdk:path'];
  return { logicalId, path: path ? path.split('/').slice(1).join('/') : logicalId };
}

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const glob = (pattern) => new RegExp(`^${pattern.split('**').map((part) => part.split('*').map(escape).join('[^/]*')).join('.*')}$`);
const rulePattern = (rule) => new RegExp(`^${rule.split('{*}').map(escape).join('.*')}$`);
const matchers = acknowledged.map((a) => ({ ...a, ruleRe: rulePattern(a.rule), resourceRe: glob(a.resource), used: 0 }));

const findings = [];
for (const violation of report.violations)
  for (const resource of violation.violatingResources) {
    const { logicalId, path } = resourcePath(resource.constructPath);
    const ack = matchers.find((m) => m.ruleRe.test(violation.ruleName) && m.resourceRe.test(path));
    if (ack) ack.used++;
    findings.push({ rule: violation.ruleName, path, logicalId, description: violation.description, acknowledged: ack?.reason ?? null });
  }
const open = findings.filter((f) => f.acknowledged === null);
const stale = matchers.filter((m) => m.used === 0).map(({ rule, resource, reason }) => ({ rule, resource, reason }));

if (values.json) console.log(JSON.stringify({ findings, stale }));
else {
  const byRule = {};
  for (const f of findings) {
    const rule = f.rule.replace(/\[.*$/, '');
    byRule[rule] ??= { findings: 0, acknowledged: 0 };
    byRule[rule].findings++;
    if (f.acknowledged !== null) byRule[rule].acknowledged++;
  }
  console.log(`cdk-nag AwsSolutions over ${values.template}: ${findings.length} findings, ${findings.length - open.length} acknowledged`);
  for (const [rule, c] of Object.entries(byRule).sort()) console.log(`  ${rule}: ${c.findings} (${c.acknowledged} acknowledged)`);
  for (const f of open) console.log(`NEW ${f.rule} on ${f.path} (${f.logicalId}): ${f.description}`);
  for (const s of stale) console.log(`STALE acknowledgement ${s.rule} on ${s.resource}: it matches no finding any more`);
}
process.exit(open.length === 0 && stale.length === 0 ? 0 : 1);
