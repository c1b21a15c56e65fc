// Invokes one function of a synthesized template once, as the managed dotnet10 runtime runs it (see
// lambda-service.mjs and local-aws.mjs), and prints one JSON object:
//   {"ok": true, "response": ...}                                  the handler's response
//   {"ok": false, "errorType": ..., "errorMessage": ..., "error": {...}}  a function error (Lambda's error document)
//   {"ok": false, "init": true, "message": ...}                    the function could not start (bootstrap or runtime)
// plus "secretRequests": [{function, secretId}]. Exit 0 in all three cases; 2 for bad options.
// Needs Node >= 20. Used by Rapid.Cdk.Tests (LambdaBundleTests).
import { parseArgs } from 'node:util';
import { LambdaFunctionError, LambdaInitError } from './lambda-service.mjs';
import { LocalFunctions } from './local-aws.mjs';

const usage = `usage: node tools/lambda-runtime/invoke.mjs --template cdk.out/Rapid.template.json --function LOGICAL_ID --runtime-host DLL
  --db CONNSTRING [--s3-endpoint URL] [--payload JSON] [--env KEY=VALUE ...]
  [--bundle DIR] [--handler HANDLER] [--unset NAME ...]   (a changed copy of what the template says: for tests of the contract)`;

const { values } = parseArgs({
  options: {
    template: { type: 'string' },
    function: { type: 'string' },
    'runtime-host': { type: 'string' },
    db: { type: 'string' },
    's3-endpoint': { type: 'string' },
    payload: { type: 'string', default: '{}' },
    env: { type: 'string', multiple: true, default: [] },
    bundle: { type: 'string' },
    handler: { type: 'string' },
    unset: { type: 'string', multiple: true, default: [] },
  },
});
for (const required of ['template', 'function', 'runtime-host', 'db'])
  if (!values[required]) {
    console.error(`invoke: --${required} is required\n${usage}`);
    process.exit(2);
  }
const env = Object.fromEntries(values.env.map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));

const functions = await new LocalFunctions({
  template: values.template, db: values.db, s3Endpoint: values['s3-endpoint'], runtimeHost: values['runtime-host'], env,
}).start();
const fn = functions.describe(values.function);
if (values.bundle) fn.taskRoot = values.bundle;
if (values.handler) fn.handler = values.handler;
for (const name of values.unset) delete fn.environment[name];
let report;
try {
  report = { ok: true, response: await functions.invoke(values.function, JSON.parse(values.payload)) };
} catch (e) {
  if (e instanceof LambdaFunctionError) report = { ok: false, errorType: e.errorType, errorMessage: e.message, error: e.payload };
  else if (e instanceof LambdaInitError) report = { ok: false, init: true, message: e.message };
  else throw e;
} finally {
  await functions.close();
}
console.log(JSON.stringify({ ...report, secretRequests: functions.secretRequests }));
