// Runs Rapid's deployed state machine definition on this machine with aws-local-stepfunctions.
//
// Every Task is served locally, by what its Resource names in the synthesized template:
//   Lambda function  -> `rapid lambda invoke <the function's Handler>`, with the function's environment
//                       variables from the template (CloudFormation references dropped) plus the local ones;
//   batch:submitJob.sync -> `rapid batch submit`, the local executor, with the job definition's environment
//                       and attempt timeout from the template;
//   sns:publish      -> a line in <outbox>/sns.jsonl.
// A task's error reaches the definition's Retry/Catch as it would in AWS (e.g. States.TaskFailed for a
// failed Batch job); a failure of the stand-ins themselves is not catchable and fails the run. Retry
// pauses and Wait states do not wait. A task stopped by its TimeoutSeconds leaves its process running
// until the run ends (aws-local-stepfunctions does not tell a local handler that it was abandoned).
//
// Needs Node >= 22 (aws-local-stepfunctions): node_modules/.bin/node, from the npm package node@22.
// Usage: see --help and Rapid.Cdk/README.md ("Running the deployed definition locally").
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { StateMachine } from 'aws-local-stepfunctions';

const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const usage = `usage: node tools/local-state-machine/run.mjs --template cdk.out/Rapid.template.json --store DIR --db CONNSTRING [options]
  --template FILE     the synthesized template (npx cdk synth)
  --definition FILE   the state machine's ASL with references resolved (default: extracted from the template)
  --input JSON        the execution input (default {}), e.g. '{"startDateTime": "2028-09-07 00:00:00"}'
  --store DIR         the directory object store (RAPID_STORE_ROOT) of functions and jobs
  --db CONNSTRING     the ops database (RAPID_DB) of the functions; jobs never get it
  --env KEY=VALUE     set for every function and job, over the template's values (repeatable)
  --rapid DLL         the rapid command (default Rapid.Cli/bin/Release/net10.0/rapid.dll)
  --parallel N        pipeline jobs run at once by the local Batch executor (default: cores)
  --outbox DIR        where SNS messages are written (default: <store>/local-aws)
Prints one JSON object: {status, output | error and cause, states (entered, in order), notifications}.`;

/** An error of the local stand-ins, not of a task: no Retry or Catch of the definition may swallow it. */
class StandInError extends Error {
  constructor(message) {
    super(message);
    this.name = 'LocalStandInError';
    this.isRetryable = false;
    this.isCatchable = false;
  }
}

/** An error a task raises, with the Error name and Cause the definition's Retry and Catch match on. */
class TaskError extends Error {
  constructor(error, cause) {
    super(cause);
    this.name = error;
  }
}

function parseCommandLine() {
  const { values } = parseArgs({
    options: {
      template: { type: 'string' },
      definition: { type: 'string' },
      input: { type: 'string', default: '{}' },
      store: { type: 'string' },
      db: { type: 'string' },
      env: { type: 'string', multiple: true, default: [] },
      rapid: { type: 'string', default: join(repositoryRoot, 'Rapid.Cli', 'bin', 'Release', 'net10.0', 'rapid.dll') },
      parallel: { type: 'string' },
      outbox: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  for (const required of ['template', 'store', 'db'])
    if (!values[required]) fail(`--${required} is required\n${usage}`);
  const env = {};
  for (const pair of values.env) {
    const at = pair.indexOf('=');
    if (at <= 0) fail(`--env ${pair}: not KEY=VALUE`);
    env[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return { ...values, env, store: resolve(values.store), outbox: resolve(values.outbox ?? join(values.store, 'local-aws')) };
}

function fail(message) {
  console.error(`local-state-machine: ${message}`);
  process.exit(2);
}

// ---- the template ---------------------------------------------------------------------------

const Account = '123456789012';
const Region = 'us-west-2';

/** The definition's Fn::Join with every reference replaced by an ARN of the right shape (as Rapid.Cdk.Tests' StateMachineDefinition). */
function extractDefinition(template) {
  const machines = Object.values(template.Resources).filter((r) => r.Type === 'AWS::StepFunctions::StateMachine');
  if (machines.length !== 1) fail(`the template has ${machines.length} state machines, expected 1`);
  const body = machines[0].Properties.DefinitionString;
  if (typeof body === 'string') return JSON.parse(body);
  return JSON.parse(body['Fn::Join'][1].map((part) => resolvePart(template, part)).join(''));
}

function resolvePart(template, part) {
  if (typeof part === 'string') return part;
  const pseudo = { 'AWS::Partition': 'aws', 'AWS::Region': Region, 'AWS::AccountId': Account, 'AWS::URLSuffix': 'amazonaws.com' };
  if (part.Ref) return pseudo[part.Ref] ?? arnOf(template, part.Ref);
  if (part['Fn::GetAtt'] && part['Fn::GetAtt'][1].endsWith('Arn')) return arnOf(template, part['Fn::GetAtt'][0]);
  fail(`the definition has an unexpected CloudFormation expression: ${JSON.stringify(part)}`);
}

function arnOf(template, logicalId) {
  const type = template.Resources[logicalId]?.Type;
  const prefix = (service) => `arn:aws:${service}:${Region}:${Account}:`;
  switch (type) {
    case 'AWS::Lambda::Function': return `${prefix('lambda')}function:${logicalId}`;
    case 'AWS::Batch::JobQueue': return `${prefix('batch')}job-queue/${logicalId}`;
    case 'AWS::Batch::JobDefinition': return `${prefix('batch')}job-definition/${logicalId}:1`;
    case 'AWS::SNS::Topic': return `${prefix('sns')}${logicalId}`;
    default: fail(`the definition refers to '${logicalId}' (${type ?? 'not in the template'}), which has no ARN rule here`);
  }
}

/** The template resource an ARN of the resolved definition names (its last path or colon part is the logical id). */
function resourceOf(template, arn, pattern, what) {
  const match = pattern.exec(arn);
  const resource = match && template.Resources[match[1]];
  if (!resource) throw new StandInError(`${what} ${arn} is not a resource of the template`);
  return resource;
}

/** Literal values only: a CloudFormation reference (a bucket name, the database host) has no local meaning. */
function literalVariables(pairs) {
  const variables = {};
  for (const [name, value] of pairs) if (typeof value === 'string' || typeof value === 'number') variables[name] = String(value);
  return variables;
}

// ---- the stand-ins --------------------------------------------------------------------------

/** What a local process may inherit from this one: enough to find and run dotnet, nothing of the caller's credentials. */
function hostEnvironment() {
  const kept = {};
  for (const [name, value] of Object.entries(process.env))
    if (/^(PATH|HOME|TMPDIR|TMP|TEMP|LANG|LC_[A-Z]+|DOTNET_.*|NUGET_.*)$/.test(name)) kept[name] = value;
  return kept;
}

const children = new Set();

/** Runs `dotnet rapid.dll args`; exit 0 = the result on stdout, 1 = {Error, Cause} of the task on stdout. */
function runRapid(options, args, env, stdin) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn('dotnet', [options.rapid, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => process.stderr.write(d));
    child.on('error', (e) => reject(new StandInError(`could not run dotnet ${options.rapid}: ${e.message}`)));
    child.on('close', (code) => {
      children.delete(child);
      try {
        if (code === 0) resolvePromise(JSON.parse(stdout));
        else if (code === 1) {
          const failure = JSON.parse(stdout);
          reject(new TaskError(failure.Error, failure.Cause));
        } else reject(new StandInError(`rapid ${args.join(' ')} exited ${code}`));
      } catch (e) {
        reject(new StandInError(`rapid ${args.join(' ')} printed no JSON result (${e.message}): ${stdout.slice(0, 200)}`));
      }
    });
    child.stdin.end(JSON.stringify(stdin));
  });
}

function lambdaTask(options, template, arn) {
  const fn = resourceOf(template, arn, /:function:([^:]+)/, 'function');
  const env = {
    ...hostEnvironment(),
    ...literalVariables(Object.entries(fn.Properties.Environment?.Variables ?? {})),
    ...options.env,
    RAPID_STORE_ROOT: options.store,
    RAPID_DB: options.db,
  };
  return (payload) => runRapid(options, ['lambda', 'invoke', fn.Properties.Handler], env, payload);
}

function batchTask(options, template, stateName) {
  return (parameters) => {
    const definition = resourceOf(template, String(parameters.JobDefinition), /job-definition\/([^:]+)/, 'job definition');
    const container = definition.Properties.ContainerProperties ?? definition.Properties.EcsProperties?.TaskProperties?.[0]?.Containers?.[0] ?? {};
    const env = {
      ...hostEnvironment(),
      ...literalVariables((container.Environment ?? []).map((v) => [v.Name, v.Value])),
      ...options.env,
      RAPID_STORE_ROOT: options.store,
    };
    const args = ['batch', 'submit'];
    const attempt = definition.Properties.Timeout?.AttemptDurationSeconds;
    if (attempt) args.push('--attempt-timeout', String(attempt));
    if (options.parallel) args.push('--parallel', options.parallel);
    return runRapid(options, args, env, parameters);
  };
}

function snsTask(options, notifications) {
  return (parameters) => {
    const message = { TopicArn: parameters.TopicArn, Subject: parameters.Subject, Message: parameters.Message };
    notifications.push(message);
    mkdirSync(options.outbox, { recursive: true });
    appendFileSync(join(options.outbox, 'sns.jsonl'), JSON.stringify(message) + '\n');
    return Promise.resolve({ MessageId: `local-${notifications.length}`, SdkHttpMetadata: { HttpStatusCode: 200 } });
  };
}

/** Every state of the definition, Map item processors and Parallel branches included (overrides are keyed by state name). */
function* allStates(states) {
  for (const [name, state] of Object.entries(states)) {
    yield [name, state];
    const nested = state.ItemProcessor ?? state.Iterator;
    if (nested) yield* allStates(nested.States);
    for (const branch of state.Branches ?? []) yield* allStates(branch.States);
  }
}

function localOverrides(options, template, definition, notifications) {
  const taskResourceLocalHandlers = {};
  const retryIntervalOverrides = {};
  const waitTimeOverrides = {};
  for (const [name, state] of allStates(definition.States)) {
    // Retries are for the services' transient errors, and Wait states for time to pass: locally neither need wait.
    if (state.Retry) retryIntervalOverrides[name] = 0;
    if (state.Type === 'Wait') waitTimeOverrides[name] = 0;
    if (state.Type !== 'Task') continue;
    const resource = state.Resource;
    if (/^arn:aws:lambda:/.test(resource)) taskResourceLocalHandlers[name] = lambdaTask(options, template, resource);
    else if (resource === 'arn:aws:states:::lambda:invoke') {
      const invoke = lambdaTask(options, template, state.Parameters.FunctionName);
      taskResourceLocalHandlers[name] = async (input) => ({ StatusCode: 200, Payload: await invoke(input.Payload) });
    } else if (resource === 'arn:aws:states:::batch:submitJob.sync') taskResourceLocalHandlers[name] = batchTask(options, template, name);
    else if (resource === 'arn:aws:states:::sns:publish') taskResourceLocalHandlers[name] = snsTask(options, notifications);
    else fail(`state ${name}: no local stand-in for the resource ${resource}`);
  }
  return { taskResourceLocalHandlers, retryIntervalOverrides, waitTimeOverrides };
}

// ---- the run --------------------------------------------------------------------------------

async function main() {
  const options = parseCommandLine();
  const template = JSON.parse(readFileSync(options.template, 'utf8'));
  const definition = options.definition ? JSON.parse(readFileSync(options.definition, 'utf8')) : extractDefinition(template);
  const input = JSON.parse(options.input);
  const notifications = [];
  const overrides = localOverrides(options, template, definition, notifications);

  const machine = new StateMachine(definition);
  const execution = machine.run(input, { overrides });
  const states = [];
  const history = (async () => {
    for await (const event of execution.eventLogs)
      if (event.type === 'StateEntered') states.push({ name: event.state.name, type: event.state.type });
  })();

  let report;
  try {
    const output = await execution.result;
    report = { status: 'SUCCEEDED', output };
  } catch (e) {
    const cause = e.cause ?? e;
    if (cause instanceof StandInError) fail(cause.message);
    // As Step Functions reports a failed execution: the last error's name and cause.
    report = { status: e.name === 'ExecutionTimeoutError' ? 'TIMED_OUT' : 'FAILED', error: cause.name, cause: cause.message };
  } finally {
    for (const child of children) child.kill('SIGKILL');
  }
  await history;
  console.log(JSON.stringify({ ...report, states, notifications }));
}

await main();
