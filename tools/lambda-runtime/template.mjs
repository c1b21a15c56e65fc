// Reads a synthesized CloudFormation template (cdk.out/<stack>.template.json) for the local stand-ins:
// its functions (handler, timeout, memory, environment and the code bundle `cdk deploy` would upload,
// found through the asset manifest beside the template) and its job definitions' environments.
//
// CloudFormation references are resolved to local stand-ins, never dropped, so a variable the
// template does not set is missing locally too:
//   Ref of a bucket            -> a local bucket named after its logical id, lower-cased (created by the caller)
//   Ref of a secret            -> arn:aws:secretsmanager:<region>:<account>:secret:<logical id> (of an attachment: its secret's)
//   Ref/GetAtt ...Arn of other -> an ARN of the right shape naming the logical id
//   GetAtt of a database or proxy endpoint -> <logical id>.local (the caller substitutes the local server)
//   AWS::Region, AWS::AccountId, AWS::Partition, AWS::URLSuffix, AWS::StackName -> the local values
// Fn::Join and Fn::Sub over these are evaluated; anything else is an error naming the expression.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export const Account = '123456789012';
export const Region = 'us-west-2';

/** The local name of a bucket resource: its logical id in lower case (S3 names are lower case, at most 63 characters). */
export const localBucketName = (logicalId) => logicalId.toLowerCase().slice(0, 63);

export class SynthesizedTemplate {
  constructor(path) {
    this.path = path;
    this.json = JSON.parse(readFileSync(path, 'utf8'));
    this.resources = this.json.Resources ?? {};
    this.stackName = basename(path).replace(/\.template\.json$/, '');
    this.buckets = new Set(); // local bucket names the resolved values named
  }

  resourcesOfType(type) {
    return Object.entries(this.resources).filter(([, r]) => r.Type === type);
  }

  /** The template's Lambda functions whose code is a zip asset, by logical id. */
  functions() {
    return this.resourcesOfType('AWS::Lambda::Function').map(([id, r]) => this.function(id, r));
  }

  function(logicalId, resource = this.resources[logicalId]) {
    if (resource?.Type !== 'AWS::Lambda::Function') throw new Error(`${logicalId} is not a Lambda function of ${this.path}`);
    const p = resource.Properties;
    return {
      logicalId,
      name: logicalId,
      runtime: p.Runtime,
      handler: p.Handler,
      timeoutSeconds: p.Timeout ?? 3,
      memoryMiB: p.MemorySize ?? 128,
      environment: this.resolveVariables(Object.entries(p.Environment?.Variables ?? {}), `function ${logicalId}`),
      code: p.Code,
    };
  }

  /** The directory `cdk deploy` zips and uploads for a function's Code (its S3Key names the asset's hash). */
  bundleOf(fn) {
    const key = typeof fn.code?.S3Key === 'string' ? fn.code.S3Key : null;
    if (!key) throw new Error(`function ${fn.logicalId}: its Code is not an S3 asset (${JSON.stringify(fn.code)})`);
    const hash = key.replace(/\.zip$/, '');
    const manifests = readdirSync(dirname(this.path)).filter((f) => f.endsWith('.assets.json'));
    for (const manifest of manifests) {
      const asset = JSON.parse(readFileSync(join(dirname(this.path), manifest), 'utf8')).files?.[hash];
      if (!asset) continue;
      const dir = join(dirname(this.path), asset.source.path);
      if (asset.source.packaging !== 'zip' || !existsSync(dir))
        throw new Error(`function ${fn.logicalId}: asset ${hash} is not a directory to zip (${JSON.stringify(asset.source)})`);
      return dir;
    }
    throw new Error(`function ${fn.logicalId}: no asset manifest beside ${this.path} has the asset ${hash}`);
  }

  /** A job definition's container environment, resolved, by the logical id of the definition. */
  jobDefinition(logicalId) {
    const resource = this.resources[logicalId];
    if (resource?.Type !== 'AWS::Batch::JobDefinition') throw new Error(`${logicalId} is not a job definition of ${this.path}`);
    const container = resource.Properties.ContainerProperties ?? resource.Properties.EcsProperties?.TaskProperties?.[0]?.Containers?.[0] ?? {};
    return {
      logicalId,
      attemptSeconds: resource.Properties.Timeout?.AttemptDurationSeconds,
      environment: this.resolveVariables((container.Environment ?? []).map((v) => [v.Name, v.Value]), `job definition ${logicalId}`),
    };
  }

  resolveVariables(pairs, where) {
    const variables = {};
    for (const [name, value] of pairs) {
      try {
        variables[name] = this.resolve(value);
      } catch (e) {
        throw new Error(`${where}: variable ${name}: ${e.message}`);
      }
    }
    return variables;
  }

  resolve(value) {
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    if (value?.Ref !== undefined) return this.#ref(value.Ref);
    if (value?.['Fn::GetAtt']) return this.#getAtt(...value['Fn::GetAtt']);
    if (value?.['Fn::Join']) return value['Fn::Join'][1].map((v) => this.resolve(v)).join(value['Fn::Join'][0]);
    if (value?.['Fn::Sub'] !== undefined) {
      const [text, names] = Array.isArray(value['Fn::Sub']) ? value['Fn::Sub'] : [value['Fn::Sub'], {}];
      return text.replace(/\$\{([^}!][^}]*)\}/g, (_, name) =>
        name in names ? this.resolve(names[name]) : name.includes('.') ? this.#getAtt(...name.split(/\.(.*)/s, 2)) : this.#ref(name));
    }
    throw new Error(`no local value for ${JSON.stringify(value)}`);
  }

  #ref(name) {
    const pseudo = { 'AWS::Region': Region, 'AWS::AccountId': Account, 'AWS::Partition': 'aws', 'AWS::URLSuffix': 'amazonaws.com', 'AWS::StackName': this.stackName };
    if (name in pseudo) return pseudo[name];
    const type = this.resources[name]?.Type;
    switch (type) {
      case 'AWS::S3::Bucket': {
        const bucket = localBucketName(name);
        this.buckets.add(bucket);
        return bucket;
      }
      case 'AWS::SecretsManager::Secret': return `arn:aws:secretsmanager:${Region}:${Account}:secret:${name}`;
      // CloudFormation: Ref of an attachment is the ARN of the secret it attached.
      case 'AWS::SecretsManager::SecretTargetAttachment': return this.resolve(this.resources[name].Properties.SecretId);
      case undefined: throw new Error(`Ref ${name}: not a resource of the template`);
      default: return this.arnOf(name);
    }
  }

  #getAtt(name, attribute) {
    const type = this.resources[name]?.Type;
    if (!type) throw new Error(`GetAtt ${name}.${attribute}: not a resource of the template`);
    if (attribute.endsWith('Arn')) return this.arnOf(name);
    if ((type === 'AWS::RDS::DBProxy' && attribute === 'Endpoint') || (type === 'AWS::RDS::DBInstance' && attribute === 'Endpoint.Address'))
      return `${name}.local`;
    if (type === 'AWS::RDS::DBInstance' && attribute === 'Endpoint.Port') return '5432';
    throw new Error(`GetAtt ${name}.${attribute} (${type}) has no local value`);
  }

  arnOf(name) {
    const type = this.resources[name]?.Type;
    const arn = (service, resource) => `arn:aws:${service}:${Region}:${Account}:${resource}`;
    switch (type) {
      case 'AWS::Lambda::Function': return arn('lambda', `function:${name}`);
      case 'AWS::Batch::JobQueue': return arn('batch', `job-queue/${name}`);
      case 'AWS::Batch::JobDefinition': return arn('batch', `job-definition/${name}:1`);
      case 'AWS::SNS::Topic': return arn('sns', name);
      case 'AWS::SQS::Queue': return arn('sqs', name);
      case 'AWS::StepFunctions::StateMachine': return arn('states', `stateMachine:${name}`);
      case 'AWS::SecretsManager::Secret': return `arn:aws:secretsmanager:${Region}:${Account}:secret:${name}`;
      case 'AWS::S3::Bucket': return `arn:aws:s3:::${localBucketName(name)}`;
      default: throw new Error(`${name} (${type ?? 'not in the template'}) has no ARN rule here`);
    }
  }

  /**
   * The username each generated secret of the template holds (its GenerateSecretString template), and
   * which one holds the database instance's master user (its MasterUserPassword resolves it).
   */
  secrets() {
    const instances = this.resourcesOfType('AWS::RDS::DBInstance').map(([, r]) => JSON.stringify(r.Properties.MasterUserPassword ?? ''));
    return this.resourcesOfType('AWS::SecretsManager::Secret').map(([id, r]) => {
      const template = r.Properties.GenerateSecretString?.SecretStringTemplate;
      const username = template ? JSON.parse(this.resolve(template)).username : undefined;
      return { logicalId: id, arn: this.#ref(id), username, master: instances.some((m) => m.includes(`"${id}"`)) };
    });
  }
}
