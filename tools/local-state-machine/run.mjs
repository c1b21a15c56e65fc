// Runs Rapid's deployed state machine definition on this machine with aws-local-stepfunctions.
//
// Every Task is served locally, by what its Resource names in the synthesized template:
//   Lambda function  -> the function started from its published bundle (the asset `cdk deploy` uploads) as the
//                       managed dotnet10 runtime starts it, with the template's handler and environment, behind a
//                       loopback Lambda Runtime API (tools/lambda-runtime: lambda-service.mjs, local-aws.mjs);
//   batch:submitJob.sync -> `rapid batch submit`, the local executor, each child with exactly the job definition's
//                       environment (resolved), what Batch sets, and the local S3's endpoint and credentials;
//   sns:publish      -> a line in <outbox>/sns.jsonl.
// S3 is s3rver (npm), started here on a free port of 127.0.0.1, with one bucket per bucket of the template (named
// after its logical id, lower-cased) and the buckets of --upload directories (a directory object store's layout:
// bucket/key). The ops database is the server of --db: the functions reach it through the template's variables and
// secrets (see local-aws.mjs); jobs never do.
// A task's error reaches the definition's Retry/Catch as it would in AWS (e.g. States.TaskFailed for a
// failed Batch job, the handler's errorType for a function error); a failure of the stand-ins themselves (a function
// that cannot start: bootstrap or runtime initialisation) is not catchable and fails the run (exit 2). Retry
// pauses and Wait states do not wait. A task stopped by its TimeoutSeconds leaves its process running
// until the run ends (aws-local-stepfunctions does not tell a local handler that it was abandoned).
//
// Needs Node >= 22 (aws-local-stepfunctions): node_modules/.bin/node, from the npm package node@22.
// Usage: see --help and Rapid.Cdk/README.md ("Running the deployed definition locally").
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { StateMachine } from 'aws-local-stepfunctions';
import S3rver from 's3rver';
import { LambdaFunctionError, LambdaInitError, LocalCredentials } from '../lambda-runtime/lambda-service.mjs';
import { LocalFunctions } from '../lambda-runtime/local-aws.mjs';
import { Account, Region, SynthesizedTemplate, localBucketName } from '../lambda-runtime/template.mjs';

const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const usage = `usage: node tools/local-state-machine/run.mjs --template cdk.out/Rapid.template.json --db CONNSTRING [options]
  --template FILE      the synthesized template (npx cdk synth), its asset manifest and assets beside it
  --definition FILE    the state machine's ASL with references resolved (default: extracted from the template)
  --input JSON         the execution input (default {}), e.g. '{"startDateTime": "2028-09-07 00:00:00"}'
  --db CONNSTRING      the ops database: its owner (the master user's stand-in); the functions connect as the template says
  --upload DIR         a directory object store (bucket/key) to copy into the local S3 first (repeatable)
  --s3-directory DIR   where s3rver keeps its data (default: a temporary directory, removed at the end)
  --env KEY=VALUE      set for every function and job, over the template's values (repeatable)
  --rapid DLL          the rapid command (default Rapid.Cli/bin/Release/net10.0/rapid.dll)
  --runtime-host DLL   the functions' runtime host (default tools/lambda-runtime/Rapid.LambdaRuntimeHost/bin/Release/net10.0/Rapid.LambdaRuntimeHost.dll)
  --parallel N         pipeline jobs run at once by the local Batch executor (default: cores)
  --outbox DIR         where SNS messages are written (default: <s3 directory>/local-aws)
  --state-machine ID   the state machine to run: the one whose logical id starts with ID (needed when the template has several)
  --execution-name N   the execution's name (default: a random UUID); its ARN is $$.Execution.Id
  --kill-first-child   a fault to inject: the first child of the first Batch job is killed (SIGKILL) as it starts, as a lost host
Before the execution the template's custom resources are created as a deploy creates them (the schema migration).
Prints one JSON object: {status, output | error and cause, states (entered, in order), notifications, customResources,
secretRequests}.`;

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
      db: { type: 'string' },
      upload: { type: 'string', multiple: true, default: [] },
      's3-directory': { type: 'string' },
      env: { type: 'string', multiple: true, default: [] },
      rapid: { type: 'string', default: join(repositoryRoot, 'Rapid.Cli', 'bin', 'Release', 'net10.0', 'rapid.dll') },
      'runtime-host': {
        type: 'string',
        default: join(repositoryRoot, 'tools', 'lambda-runtime', 'Rapid.LambdaRuntimeHost', 'bin', 'Release', 'net10.0', 'Rapid.LambdaRuntimeHost.dll'),
      },
      parallel: { type: 'string' },
      outbox: { type: 'string' },
      'kill-first-child': { type: 'boolean', default: false },
      'state-machine': { type: 'string' },
      'execution-name': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  for (const required of ['template', 'db'])
    if (!values[required]) fail(`--${required} is required\n${usage}`);
  const env = {};
  for (const pair of values.env) {
    const at = pair.indexOf('=');
    if (at <= 0) fail(`--env ${pair}: not KEY=VALUE`);
    env[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return {
    ...values, env, runtimeHost: values['runtime-host'], s3Directory: values['s3-directory'], killFirstChild: values['kill-first-child'],
    stateMachine: values['state-machine'], executionName: values['execution-name'] ?? randomUUID(),
  };
}

function fail(message) {
  console.error(`local-state-machine: ${message}`);
  process.exit(2);
}

// ---- the template ---------------------------------------------------------------------------

/** The definition's Fn::Join with every reference replaced by an ARN of the right shape (as Rapid.Cdk.Tests' StateMachineDefinition). */
function extractDefinition(template, prefix) {
  const machines = template.resourcesOfType('AWS::StepFunctions::StateMachine')
    .filter(([logicalId]) => prefix === undefined || logicalId.startsWith(prefix));
  if (machines.length !== 1)
    fail(`the template has ${machines.length} state machines${prefix === undefined ? '' : ` whose logical id starts with ${prefix}`}, expected 1 (--state-machine)`);
  const [logicalId, machine] = machines[0];
  const body = machine.Properties.DefinitionString;
  const name = machine.Properties.StateMachineName;
  return { logicalId, name: typeof name === 'string' ? name : template.resolve(name), definition: JSON.parse(typeof body === 'string' ? body : template.resolve(body)) };
}

/** The context object Step Functions gives an execution: its ARN and name (what $$.Execution.Id and .Name read). */
function executionContext(machineName, executionName, input) {
  const name = typeof machineName === 'string' ? machineName : 'local';
  return {
    Execution: {
      Id: `arn:aws:states:${Region}:${Account}:execution:${name}:${executionName}`,
      Name: executionName,
      Input: input,
      StartTime: new Date().toISOString(),
    },
    StateMachine: { Id: `arn:aws:states:${Region}:${Account}:stateMachine:${name}`, Name: name },
  };
}

/** The logical id an ARN of the resolved definition names (its last path or colon part). */
function logicalIdOf(template, arn, pattern, what) {
  const match = pattern.exec(arn);
  if (!match || !template.resources[match[1]]) throw new StandInError(`${what} ${arn} is not a resource of the template`);
  return match[1];
}

// ---- the stand-ins --------------------------------------------------------------------------

/** What a local process may inherit from this one: enough to find and run dotnet (what the image provides), nothing of the caller's credentials. */
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

/** A Lambda task: the function's error as Step Functions' Lambda integration raises it (Error = errorType, Cause = the error document). */
function lambdaTask(functions, template, arn) {
  const logicalId = logicalIdOf(template, arn, /:function:([^:]+)/, 'function');
  return async (payload) => {
    try {
      return await functions.invoke(logicalId, payload);
    } catch (e) {
      if (e instanceof LambdaFunctionError) throw new TaskError(e.errorType, JSON.stringify(e.payload));
      if (e instanceof LambdaInitError) throw new StandInError(e.message);
      throw e;
    }
  };
}

function batchTask(options, template, local, work) {
  return (parameters) => {
    let definition;
    try {
      definition = template.jobDefinition(logicalIdOf(template, String(parameters.JobDefinition), /job-definition\/([^:]+)/, 'job definition'));
    } catch (e) {
      throw e instanceof StandInError ? e : new StandInError(e.message);
    }
    // The container's environment: the job definition's, the local S3 (endpoint override, dummy
    // credentials; no instance metadata here) and what the image sets to run dotnet. Batch adds its
    // own AWS_BATCH_* variables and the state's overrides per child.
    const container = {
      ...hostEnvironment(),
      AWS_ENDPOINT_URL_S3: local.s3Endpoint,
      AWS_ACCESS_KEY_ID: LocalCredentials.AWS_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: LocalCredentials.AWS_SECRET_ACCESS_KEY,
      AWS_EC2_METADATA_DISABLED: 'true',
      ...definition.environment,
      ...options.env,
    };
    const file = join(work, `container-${definition.logicalId}.json`);
    writeFileSync(file, JSON.stringify(container));
    const args = ['batch', 'submit', '--container-environment', file];
    if (definition.attemptSeconds) args.push('--attempt-timeout', String(definition.attemptSeconds));
    if (options.parallel) args.push('--parallel', options.parallel);
    // The injected fault: the first child of the execution's first Batch job is lost.
    if (options.killFirstChild && !local.childKilled) {
      local.childKilled = true;
      args.push('--kill-first-child');
    }
    return runRapid(options, args, { ...hostEnvironment(), ...container }, parameters);
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

function localOverrides(options, template, definition, notifications, local) {
  const taskResourceLocalHandlers = {};
  const retryIntervalOverrides = {};
  const waitTimeOverrides = {};
  for (const [name, state] of allStates(definition.States)) {
    // Retries are for the services' transient errors, and Wait states for time to pass: locally neither need wait.
    if (state.Retry) retryIntervalOverrides[name] = 0;
    if (state.Type === 'Wait') waitTimeOverrides[name] = 0;
    if (state.Type !== 'Task') continue;
    const resource = state.Resource;
    if (/^arn:aws:lambda:/.test(resource)) taskResourceLocalHandlers[name] = lambdaTask(local.functions, template, resource);
    else if (resource === 'arn:aws:states:::lambda:invoke') {
      const invoke = lambdaTask(local.functions, template, state.Parameters.FunctionName);
      taskResourceLocalHandlers[name] = async (input) => ({ StatusCode: 200, Payload: await invoke(input.Payload) });
    } else if (resource === 'arn:aws:states:::batch:submitJob.sync') taskResourceLocalHandlers[name] = batchTask(options, template, local, local.work);
    else if (resource === 'arn:aws:states:::sns:publish') taskResourceLocalHandlers[name] = snsTask(options, notifications);
    else fail(`state ${name}: no local stand-in for the resource ${resource}`);
  }
  return { taskResourceLocalHandlers, retryIntervalOverrides, waitTimeOverrides };
}

// ---- local S3 -------------------------------------------------------------------------------

/** Every file under a directory object store's root, as [bucket, key, path]. */
function* storeFiles(root) {
  for (const bucket of readdirSync(root)) {
    const walk = function* (dir) {
      for (const entry of readdirSync(dir)) {
        const path = join(dir, entry);
        if (statSync(path).isDirectory()) yield* walk(path);
        else yield [bucket, relative(join(root, bucket), path).split('\\').join('/'), path];
      }
    };
    if (statSync(join(root, bucket)).isDirectory()) yield* walk(join(root, bucket));
  }
}

/** A PUT to s3rver (it accepts unsigned requests: nothing here is AWS). */
function put(endpoint, path, body) {
  return new Promise((resolvePromise, reject) => {
    const req = request(new URL(path, endpoint), { method: 'PUT' }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolvePromise() : reject(new Error(`PUT ${path}: HTTP ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function startS3(options, template) {
  const directory = options.s3Directory ? resolve(options.s3Directory) : mkdtempSync(join(tmpdir(), 'rapid-local-s3-'));
  mkdirSync(directory, { recursive: true });
  const server = new S3rver({ address: '127.0.0.1', port: 0, directory, silent: true, vhostBuckets: false });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  const buckets = new Set(template.resourcesOfType('AWS::S3::Bucket').map(([id]) => localBucketName(id)));
  const uploads = options.upload.map((dir) => [...storeFiles(resolve(dir))]);
  for (const files of uploads) for (const [bucket] of files) buckets.add(bucket);
  for (const bucket of buckets) await put(endpoint, `/${bucket}`, '');
  for (const files of uploads) for (const [bucket, key, path] of files) await put(endpoint, `/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`, readFileSync(path));
  return {
    endpoint,
    directory,
    close: async () => {
      await server.close();
      if (!options.s3Directory) rmSync(directory, { recursive: true, force: true });
    },
  };
}

// ---- the run --------------------------------------------------------------------------------

async function main() {
  const options = parseCommandLine();
  const template = new SynthesizedTemplate(options.template);
  // The state machine of the template (its name for the context object), unless only a definition file is given.
  const extracted = options.definition && !options.stateMachine ? undefined : extractDefinition(template, options.stateMachine);
  const definition = options.definition ? JSON.parse(readFileSync(options.definition, 'utf8')) : extracted.definition;
  const input = JSON.parse(options.input);
  const context = executionContext(extracted?.name, options.executionName, input);
  const notifications = [];
  const s3 = await startS3(options, template);
  options.outbox = resolve(options.outbox ?? join(s3.directory, 'local-aws'));
  const work = mkdtempSync(join(tmpdir(), 'rapid-local-sfn-'));
  const functions = await new LocalFunctions({
    template, db: options.db, s3Endpoint: s3.endpoint, runtimeHost: options.runtimeHost, env: options.env,
  }).start();
  const local = { functions, s3Endpoint: s3.endpoint, work };

  let report;
  let standInFailure;
  const states = [];
  let customResources = [];
  try {
    // As a deploy does before any night: the schema migration's custom resource (Migrate applies the
    // migrations as the master user and lets the operations role log in).
    customResources = await functions.createCustomResources();
    const failed = customResources.find((r) => r.status !== 'SUCCESS');
    if (failed) throw new StandInError(`custom resource ${failed.logicalId} (${failed.type}) failed: ${failed.reason}`);
    const overrides = localOverrides(options, template, definition, notifications, local);
    const machine = new StateMachine(definition);
    const execution = machine.run(input, { overrides, context });
    const history = (async () => {
      for await (const event of execution.eventLogs)
        if (event.type === 'StateEntered') states.push({ name: event.state.name, type: event.state.type });
    })();
    try {
      const output = await execution.result;
      report = { status: 'SUCCEEDED', output };
    } catch (e) {
      const cause = e.cause ?? e;
      if (cause instanceof StandInError) standInFailure = cause.message;
      // As Step Functions reports a failed execution: the last error's name and cause.
      else report = { status: e.name === 'ExecutionTimeoutError' ? 'TIMED_OUT' : 'FAILED', error: cause.name, cause: cause.message };
    }
    await history;
  } catch (e) {
    if (!(e instanceof StandInError)) throw e;
    standInFailure = e.message;
  } finally {
    for (const child of children) child.kill('SIGKILL');
    await functions.close();
    await s3.close();
    rmSync(work, { recursive: true, force: true });
  }
  if (standInFailure) fail(standInFailure);
  console.log(JSON.stringify({ ...report, execution: context.Execution.Id, states, notifications, customResources, secretRequests: functions.secretRequests }));
}

await main();
