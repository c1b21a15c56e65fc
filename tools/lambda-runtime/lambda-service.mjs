// A local Lambda service for functions on the managed dotnet10 runtime, as AWS documents it:
//
// - Bootstrap: the runtime's bootstrap.sh (aws-lambda-dotnet, Amazon.Lambda.RuntimeSupport) finds
//   <asm>.deps.json and <asm>.runtimeconfig.json in LAMBDA_TASK_ROOT (<asm>: the handler string up to
//   its first ':'; failing that, the only *.deps.json / *.runtimeconfig.json there) and runs
//     dotnet exec --depsfile <deps> --runtimeconfig <runtimeconfig> Amazon.Lambda.RuntimeSupport.dll <handler>
//   exiting 101..106 when something is missing. `bootstrap` below does the same checks with the same
//   exit codes and starts Rapid.LambdaRuntimeHost.dll (our stand-in for RuntimeSupport, see its project)
//   in RuntimeSupport's place.
// - Environment: exactly the function's variables plus those Lambda defines for every function
//   (_HANDLER, AWS_LAMBDA_RUNTIME_API, LAMBDA_TASK_ROOT, AWS_REGION, credentials, ...); nothing is
//   inherited from this process.
// - Runtime API (2018-06-01) on 127.0.0.1, one per execution environment: GET /runtime/invocation/next
//   hands out the event, POST .../{id}/response and .../{id}/error end the invocation, POST
//   /runtime/init/error ends the environment. Environments are reused between invocations, as Lambda
//   reuses them (so is the handler object the runtime creates once); a busy function gets another.
// - The function's timeout: an invocation still running then is ended with Sandbox.Timedout and its
//   environment discarded.
// - Optionally, the AWS Parameters and Secrets Lambda extension's local endpoint
//   (GET /secretsmanager/get?secretId=..., token X-Aws-Parameters-Secrets-Token = AWS_SESSION_TOKEN).
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { basename, delimiter, dirname, join } from 'node:path';

/** The initialisation of an execution environment failed: nothing in the function ran. Not a handler error. */
export class LambdaInitError extends Error {
  constructor(functionName, message) {
    super(`function ${functionName}: ${message}`);
    this.name = 'LambdaInitError';
  }
}

/** What the Invoke API returns for a function error: Step Functions raises errorType as the state's Error. */
export class LambdaFunctionError extends Error {
  constructor(errorType, errorMessage, payload) {
    super(errorMessage);
    this.name = errorType;
    this.errorType = errorType;
    this.payload = payload;
  }
}

/** Dummy credentials of every execution environment (Lambda sets the execution role's): the pair s3rver accepts. */
export const LocalCredentials = {
  AWS_ACCESS_KEY_ID: 'S3RVER',
  AWS_SECRET_ACCESS_KEY: 'S3RVER',
};

/** Each function's session token names it, so the local extension can tell which function asked for a secret. */
const SessionTokenPrefix = 'local-session-';
const sessionToken = (functionName) => SessionTokenPrefix + functionName;

/** bootstrap.sh's lookup of the function's files; throws with its exit code and message. */
export function bootstrap(taskRoot, handler) {
  const failure = (code, message) => Object.assign(new Error(`bootstrap exit ${code}: ${message}`), { bootstrapExitCode: code });
  if (!taskRoot) throw failure(101, 'Environment variable LAMBDA_TASK_ROOT needs to be defined');
  if (!existsSync(taskRoot) || !statSync(taskRoot).isDirectory() || readdirSync(taskRoot).length === 0)
    throw failure(102, `.NET binaries for Lambda function are not correctly installed in ${taskRoot}: the directory is missing or empty`);
  if (!handler) throw failure(103, 'No Lambda Handler function was specified.');
  const colon = handler.indexOf(':');
  if (colon < 0) throw failure(104, `executable assembly ${join(taskRoot, handler)} (an executable handler) is not supported by this runtime host`);
  const assembly = handler.slice(0, colon);
  const find = (suffix, code) => {
    const named = join(taskRoot, assembly + suffix);
    if (existsSync(named)) return named;
    const all = readdirSync(taskRoot).filter((f) => f.endsWith(suffix));
    if (all.length !== 1)
      throw failure(code, `.NET binaries for Lambda function are not correctly installed in ${taskRoot}: the directory is missing the required ${suffix} file`);
    return join(taskRoot, all[0]);
  };
  const deps = find('.deps.json', 105);
  const runtimeConfig = find('.runtimeconfig.json', 106);
  return ['exec', '--depsfile', deps, '--runtimeconfig', runtimeConfig];
}

/** The directory holding the dotnet executable, found on PATH (as DOTNET_ROOT in the runtime: /var/lang/bin). */
function dotnetRoot() {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'dotnet');
    if (dir && existsSync(candidate)) return dirname(candidate);
  }
  throw new Error('dotnet is not on PATH: the .NET 10 runtime is needed to run the functions');
}

/**
 * Runs functions. A function is { name, taskRoot, handler, timeoutSeconds, memoryMiB, environment }:
 * environment holds the function's own variables only (the template's, resolved).
 */
export class LocalLambdaService {
  /**
   * @param {object} options
   * @param {string} options.runtimeHost path of Rapid.LambdaRuntimeHost.dll (RuntimeSupport's stand-in)
   * @param {string} options.region AWS_REGION of every function
   * @param {object} [options.extra] variables added to every environment on top of Lambda's (local stand-ins such as AWS_ENDPOINT_URL_S3)
   * @param {(line: string) => void} [options.log]
   */
  constructor({ runtimeHost, region, extra = {}, log = (line) => process.stderr.write(line + '\n') }) {
    if (!existsSync(runtimeHost)) throw new Error(`the runtime host ${runtimeHost} does not exist: build the solution (dotnet build Rapid.slnx)`);
    this.runtimeHost = runtimeHost;
    this.region = region;
    this.extra = extra;
    this.log = log;
    this.dotnetRoot = dotnetRoot();
    this.idle = new Map(); // function name -> [environment]
    this.all = new Set();
  }

  /** Invokes fn with payload (a JSON value); returns the handler's response (parsed JSON, or the raw text). */
  async invoke(fn, payload) {
    const pool = this.idle.get(fn.name) ?? [];
    this.idle.set(fn.name, pool);
    const environment = pool.pop() ?? (await this.#start(fn));
    try {
      const body = await environment.invoke(Buffer.from(JSON.stringify(payload ?? null)));
      pool.push(environment);
      const text = body.toString('utf8');
      try {
        return JSON.parse(text);
      } catch {
        return text;
      }
    } catch (e) {
      if (e instanceof LambdaFunctionError && environment.alive) pool.push(environment);
      throw e;
    }
  }

  async #start(fn) {
    let args;
    try {
      args = [...bootstrap(fn.taskRoot, fn.handler), this.runtimeHost, fn.handler];
    } catch (e) {
      throw new LambdaInitError(fn.name, e.message);
    }
    const environment = new ExecutionEnvironment(fn, this.log);
    const api = await environment.listen();
    const variables = {
      // Lambda's defined runtime variables (AWS Lambda Developer Guide, "Defined runtime environment variables").
      _HANDLER: fn.handler,
      AWS_LAMBDA_RUNTIME_API: api,
      LAMBDA_TASK_ROOT: fn.taskRoot,
      LAMBDA_RUNTIME_DIR: dirname(this.runtimeHost),
      AWS_REGION: this.region,
      AWS_DEFAULT_REGION: this.region,
      AWS_EXECUTION_ENV: 'AWS_Lambda_dotnet10',
      AWS_LAMBDA_FUNCTION_NAME: fn.name,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMiB ?? 128),
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.name}`,
      AWS_LAMBDA_LOG_STREAM_NAME: `local/[$LATEST]${randomUUID().replaceAll('-', '')}`,
      ...LocalCredentials,
      AWS_SESSION_TOKEN: sessionToken(fn.name),
      LANG: 'en_US.UTF-8',
      TZ: ':UTC',
      PATH: `${this.dotnetRoot}:/usr/local/bin:/usr/bin:/bin`,
      DOTNET_ROOT: this.dotnetRoot,
      // No instance metadata service here: the SDK must not look for one (Lambda has none either).
      AWS_EC2_METADATA_DISABLED: 'true',
      ...this.extra,
      ...fn.environment,
    };
    environment.spawn(join(this.dotnetRoot, 'dotnet'), args, variables);
    this.all.add(environment);
    return environment;
  }

  /** Ends every execution environment. */
  async close() {
    await Promise.all([...this.all].map((e) => e.close()));
    this.all.clear();
    this.idle.clear();
  }
}

/** One execution environment: a runtime process and the Runtime API it talks to. */
class ExecutionEnvironment {
  constructor(fn, log) {
    this.fn = fn;
    this.log = log;
    this.alive = true;
    this.pendingNext = null; // the runtime's waiting GET /next
    this.current = null; // { requestId, event, delivered, resolve, reject, timer }
    this.initError = null;
    this.tail = [];
  }

  listen() {
    this.server = createServer((req, res) => this.#route(req, res));
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve(`127.0.0.1:${this.server.address().port}`));
    });
  }

  spawn(dotnet, args, variables) {
    this.process = spawn(dotnet, args, { env: variables, stdio: ['ignore', 'pipe', 'pipe'] });
    const forward = (stream) => {
      let partial = '';
      stream.on('data', (chunk) => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop();
        for (const line of lines) {
          this.tail.push(line);
          if (this.tail.length > 20) this.tail.shift();
          this.log(`[${this.fn.name}] ${line}`);
        }
      });
    };
    forward(this.process.stdout);
    forward(this.process.stderr);
    this.process.on('error', (e) => this.#ended(`could not start ${dotnet}: ${e.message}`));
    this.process.on('exit', (code, signal) => this.#ended(`the runtime exited (${signal ?? `exit code ${code}`})`));
  }

  invoke(event) {
    return new Promise((resolve, reject) => {
      if (!this.alive) return reject(new LambdaInitError(this.fn.name, 'the execution environment has ended'));
      const requestId = randomUUID();
      const timeout = (this.fn.timeoutSeconds ?? 3) * 1000;
      this.current = { requestId, event, delivered: false, resolve, reject, deadline: Date.now() + timeout };
      this.current.timer = setTimeout(() => {
        const seconds = (timeout / 1000).toFixed(2);
        const payload = { errorType: 'Sandbox.Timedout', errorMessage: `RequestId: ${requestId} Error: Task timed out after ${seconds} seconds` };
        this.#settle((c) => c.reject(new LambdaFunctionError(payload.errorType, payload.errorMessage, payload)));
        this.close();
      }, timeout);
      this.#deliver();
    });
  }

  #deliver() {
    if (!this.current || this.current.delivered || !this.pendingNext) return;
    const res = this.pendingNext;
    this.pendingNext = null;
    this.current.delivered = true;
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Lambda-Runtime-Aws-Request-Id': this.current.requestId,
      'Lambda-Runtime-Deadline-Ms': String(this.current.deadline),
      'Lambda-Runtime-Invoked-Function-Arn': `arn:aws:lambda:local:000000000000:function:${this.fn.name}`,
      'Lambda-Runtime-Trace-Id': `Root=1-00000000-${randomUUID().replaceAll('-', '').slice(0, 24)};Sampled=0`,
    });
    res.end(this.current.event);
  }

  #route(req, res) {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const path = req.url.split('?')[0];
      const accepted = () => {
        res.writeHead(202, { 'Content-Type': 'application/json' });
        res.end('{"status":"OK"}');
      };
      const invocation = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(path);
      if (req.method === 'GET' && path === '/2018-06-01/runtime/invocation/next') {
        this.pendingNext = res;
        this.#deliver();
      } else if (req.method === 'POST' && invocation) {
        if (!this.current || this.current.requestId !== invocation[1]) {
          res.writeHead(400, { 'Content-Type': 'application/json' });
          return res.end(JSON.stringify({ errorType: 'InvalidRequestID', errorMessage: `no invocation ${invocation[1]} is running` }));
        }
        accepted();
        if (invocation[2] === 'response') this.#settle((c) => c.resolve(body));
        else this.#settle((c) => c.reject(functionError(req.headers['lambda-runtime-function-error-type'], body)));
      } else if (req.method === 'POST' && path === '/2018-06-01/runtime/init/error') {
        accepted();
        const error = functionError(req.headers['lambda-runtime-function-error-type'], body);
        this.initError = `${error.errorType}: ${error.message}`;
      } else {
        res.writeHead(404, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ errorType: 'NotFound', errorMessage: `${req.method} ${path} is not part of the Runtime API` }));
      }
    });
  }

  #settle(action) {
    const current = this.current;
    if (!current) return;
    this.current = null;
    clearTimeout(current.timer);
    action(current);
  }

  #ended(why) {
    if (!this.alive) return;
    this.alive = false;
    const reason = this.initError
      ? `initialisation failed: ${this.initError}`
      : `${why}${this.tail.length ? `; last output: ${this.tail.slice(-5).join(' | ')}` : ''}`;
    this.#settle((c) => c.reject(new LambdaInitError(this.fn.name, reason)));
    this.server?.close();
  }

  async close() {
    this.alive = false;
    this.pendingNext?.destroy();
    if (this.process && this.process.exitCode === null && this.process.signalCode === null) {
      const exited = new Promise((resolve) => this.process.once('exit', resolve));
      this.process.kill('SIGKILL');
      await exited;
    }
    this.server?.close();
  }
}

/** A function error posted by the runtime: its standard error document, or only the header's type. */
function functionError(headerType, body) {
  let document = null;
  try {
    document = JSON.parse(body.toString('utf8'));
  } catch {
    /* Lambda falls back to the Lambda-Runtime-Function-Error-Type header */
  }
  const errorType = document?.errorType ?? headerType ?? 'Unhandled';
  return new LambdaFunctionError(errorType, document?.errorMessage ?? '', document ?? { errorType });
}

/**
 * The Parameters and Secrets Lambda extension's HTTP endpoint on 127.0.0.1 (a free port): serves the
 * given secrets by id, only to callers that present their function's session token, as the extension does.
 */
export class LocalSecretsExtension {
  constructor(secrets) {
    this.secrets = secrets; // secret id -> SecretString
    this.requests = []; // { function, secretId }
  }

  listen() {
    this.server = createServer((req, res) => {
      const url = new URL(req.url, 'http://localhost');
      const answer = (status, body) => {
        res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(typeof body === 'string' ? body : JSON.stringify(body));
      };
      const token = req.headers['x-aws-parameters-secrets-token'];
      if (typeof token !== 'string' || !token.startsWith(SessionTokenPrefix)) return answer(401, 'missing or wrong X-Aws-Parameters-Secrets-Token');
      if (req.method !== 'GET' || url.pathname !== '/secretsmanager/get') return answer(404, `${url.pathname} is not served`);
      const id = url.searchParams.get('secretId');
      this.requests.push({ function: token.slice(SessionTokenPrefix.length), secretId: id });
      if (!(id in this.secrets)) return answer(400, `ResourceNotFoundException: Secrets Manager can't find the specified secret ${id}`);
      answer(200, { ARN: id, Name: basename(id), SecretString: this.secrets[id], VersionStages: ['AWSCURRENT'] });
    });
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve(this.server.address().port));
    });
  }

  close() {
    this.server?.close();
  }
}
