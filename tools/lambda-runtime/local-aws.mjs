// The functions of a synthesized template, run on this machine by the LocalLambdaService with the
// local stand-ins for what their environment names:
//   - the ops database: RAPID_DB_HOST, RAPID_DB_PORT and RAPID_DB_NAME, where the template sets them,
//     name the local server of --db instead of the proxy or instance;
//   - the database secrets: the Parameters and Secrets extension is served on a free port of
//     127.0.0.1 (PARAMETERS_SECRETS_EXTENSION_HTTP_PORT, where the template sets it, names that port
//     instead of 2773, which several runs on one machine cannot share). Each generated secret of the
//     template holds its own username; the secret of the database's master user holds the --db user
//     and password instead;
//   - S3: AWS_ENDPOINT_URL_S3 names a local S3 (s3rver), the SDK's documented endpoint override.
// Everything else comes from the template as it is (see template.mjs for how references resolve).
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { LocalCredentials, LocalLambdaService, LocalSecretsExtension } from './lambda-service.mjs';
import { Account, Region, SynthesizedTemplate } from './template.mjs';

/** The parts of an Npgsql connection string the stand-ins need (keys case-insensitive, as Npgsql reads them). */
export function parseConnectionString(text) {
  const parts = {};
  for (const pair of text.split(';')) {
    const at = pair.indexOf('=');
    if (at > 0) parts[pair.slice(0, at).trim().toLowerCase().replace(/\s+/g, '')] = pair.slice(at + 1).trim();
  }
  const host = parts.host ?? parts.server;
  if (!host) throw new Error(`the connection string names no Host: ${text.replace(/password=[^;]*/i, 'Password=***')}`);
  return {
    host,
    port: parts.port ?? '5432',
    database: parts.database ?? parts.db,
    username: parts.username ?? parts.userid ?? parts.user,
    password: parts.password ?? '',
  };
}

export class LocalFunctions {
  /**
   * @param {object} options
   * @param {string} options.template path of the synthesized template (its asset manifest beside it)
   * @param {string} options.db connection string of the local ops database (its owner)
   * @param {string} [options.s3Endpoint] the local S3's URL
   * @param {string} options.runtimeHost Rapid.LambdaRuntimeHost.dll
   * @param {object} [options.env] set for every function over the template's values (a documented local change only)
   */
  constructor({ template, db, s3Endpoint, runtimeHost, env = {}, log }) {
    this.template = template instanceof SynthesizedTemplate ? template : new SynthesizedTemplate(template);
    this.db = parseConnectionString(db);
    this.env = env;
    const secrets = {};
    for (const secret of this.template.secrets()) {
      const username = secret.master ? this.db.username : secret.username;
      // A local server on a unix socket may trust its users without a password; a secret always holds one.
      const password = secret.master && this.db.password ? this.db.password : `local-${secret.logicalId}`;
      if (username) secrets[secret.arn] = JSON.stringify({ username, password });
    }
    this.secrets = new LocalSecretsExtension(secrets);
    this.service = new LocalLambdaService({
      runtimeHost,
      region: Region,
      extra: s3Endpoint ? { AWS_ENDPOINT_URL_S3: s3Endpoint } : {},
      log,
    });
    this.functions = new Map();
  }

  async start() {
    this.secretsPort = await this.secrets.listen();
    return this;
  }

  /** The function as the local service runs it: its bundle and its environment with the local stand-ins. */
  describe(logicalId) {
    if (this.functions.has(logicalId)) return this.functions.get(logicalId);
    const fn = this.template.function(logicalId);
    const environment = { ...fn.environment };
    const local = {
      RAPID_DB_HOST: this.db.host,
      RAPID_DB_PORT: this.db.port,
      RAPID_DB_NAME: this.db.database,
      PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: String(this.secretsPort),
    };
    for (const [name, value] of Object.entries(local)) if (name in environment && value !== undefined) environment[name] = value;
    const described = { ...fn, taskRoot: this.template.bundleOf(fn), environment: { ...environment, ...this.env } };
    this.functions.set(logicalId, described);
    return described;
  }

  invoke(logicalId, payload) {
    return this.service.invoke(this.describe(logicalId), payload);
  }

  /**
   * What CloudFormation does first on a deploy: sends each custom resource of the template whose
   * ServiceToken is a dotnet10 function of the template (ours: the schema migration; CDK's own
   * Node/Python providers are not run here) a Create request (properties resolved as the others),
   * and waits for the function's answer at the pre-signed ResponseURL (here a PUT to 127.0.0.1).
   * Returns [{logicalId, type, status, reason}]; a FAILED answer is returned, not thrown.
   */
  async createCustomResources() {
    const results = [];
    for (const [logicalId, resource] of Object.entries(this.template.resources)) {
      const token = resource.Properties?.ServiceToken?.['Fn::GetAtt'];
      const provider = token && this.template.resources[token[0]];
      if (!resource.Type.startsWith('Custom::') || provider?.Type !== 'AWS::Lambda::Function' || provider.Properties.Runtime !== 'dotnet10') continue;
      const responses = createServer();
      const answered = new Promise((resolve) => {
        responses.on('request', (req, res) => {
          const chunks = [];
          req.on('data', (c) => chunks.push(c));
          req.on('end', () => {
            res.writeHead(200);
            res.end();
            resolve({ method: req.method, body: Buffer.concat(chunks).toString('utf8') });
          });
        });
      });
      await new Promise((resolve) => responses.listen(0, '127.0.0.1', resolve));
      const properties = Object.fromEntries(Object.entries(resource.Properties).map(([k, v]) => [k, this.template.resolve(v)]));
      const request = {
        RequestType: 'Create',
        ServiceToken: properties.ServiceToken,
        ResponseURL: `http://127.0.0.1:${responses.address().port}/response?signature=local`,
        StackId: `arn:aws:cloudformation:${Region}:${Account}:stack/${this.template.stackName}/${randomUUID()}`,
        RequestId: randomUUID(),
        LogicalResourceId: logicalId,
        ResourceType: resource.Type,
        ResourceProperties: properties,
      };
      try {
        await this.invoke(token[0], request);
        const response = await answered;
        const body = JSON.parse(response.body);
        if (response.method !== 'PUT') throw new Error(`${logicalId}: the response was a ${response.method}, CloudFormation takes a PUT`);
        results.push({ logicalId, type: resource.Type, status: body.Status, reason: body.Reason });
      } finally {
        responses.close();
      }
    }
    return results;
  }

  /** The secrets the functions asked the extension for, in order. */
  get secretRequests() {
    return this.secrets.requests;
  }

  async close() {
    await this.service.close();
    this.secrets.close();
  }
}

export { LocalCredentials };
