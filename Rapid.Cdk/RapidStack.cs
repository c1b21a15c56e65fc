using Amazon.CDK;
using Constructs;
using Rapid.Cdk.Configuration;
using Rapid.Cdk.Resources;
using Rapid.Cdk.Workflow;

namespace Rapid.Cdk;

/// <summary>Rapid on AWS: the small constructs of Rapid.Cdk.Resources and the nightly workflow, wired together.</summary>
public sealed class RapidStack : Stack
{
    public RapidSettings Settings { get; }
    public Storage Storage { get; }
    public NightlyWorkflow Workflow { get; }
    /// <summary>The per-image workflow of prompt processing ({stack}-prompt).</summary>
    public PromptWorkflow Prompt { get; }
    /// <summary>{stack}-diff: the job API's diffs, one Batch job each.</summary>
    public DiffWorkflow Diff { get; }
    public OpsDatabase Database { get; }
    /// <summary>The commit the deployed image and functions are built from.</summary>
    public SourceRevision Revision { get; }

    public RapidStack(Construct scope, string id, IStackProps? props = null) : base(scope, id, props)
    {
        Settings = RapidSettings.FromContext(Node);
        Revision = SourceRevision.Resolve(Settings.SourceRevision, RepositoryRoot.Find());

        var network = new Network(this, "Network", Settings.Network, Settings.Storage.LogRetentionDays);
        Storage = new Storage(this, "Storage", Settings.Storage);
        Database = new OpsDatabase(this, "OpsDatabase", Settings.Database, network);
        var database = Database;
        var batch = new BatchCompute(this, "Batch", Settings.Batch, network, Storage, Settings.Storage.LogRetentionDays, Revision);
        var functions = new OperationsFunctions(this, "Functions", Settings, network, Storage, database, Revision);
        var schema = new SchemaMigration(this, "SchemaMigration", functions.Migrate, database);
        var monitoring = new Monitoring(this, "Monitoring", Settings.Monitoring);
        Workflow = new NightlyWorkflow(this, "NightlyWorkflow", Settings, functions, batch, monitoring.Topic);
        var streaming = new StreamingRegistration(this, "StreamingRegistration", Settings, Storage, functions);
        var batchEvents = new BatchStateEvents(this, "BatchStateEvents", batch.Queue, functions);
        Prompt = new PromptWorkflow(this, "PromptWorkflow", Settings, functions, batch);
        var arrivals = new PromptIngest(this, "PromptIngest", Settings.Prompt, Storage, functions);
        Diff = new DiffWorkflow(this, "DiffWorkflow", Settings, functions, batch);
        var jobs = new JobApi(this, "JobApi", Settings, functions, Workflow.StateMachine, Prompt.StateMachine, Diff.StateMachine);
        var ended = new EndedExecutions(this, "EndedExecutions", functions, Workflow.StateMachine, Prompt.StateMachine, Diff.StateMachine);
        var schedule = new NightlySchedule(this, "NightlySchedule", Settings.Schedule, Workflow.StateMachine);
        // Nothing that writes to the database exists before its schema does.
        Workflow.Node.AddDependency(schema);
        streaming.Node.AddDependency(schema);
        batchEvents.Node.AddDependency(schema);
        Prompt.Node.AddDependency(schema);
        // A diff's execution records nothing itself, but the submissions it serves are rows: no machine before the schema.
        Diff.Node.AddDependency(schema);
        arrivals.Node.AddDependency(schema);
        schedule.Node.AddDependency(schema);
        jobs.Node.AddDependency(schema);
        ended.Node.AddDependency(schema);
        // The SQS event source mappings are children of the functions, not of StreamingRegistration or BatchStateEvents.
        foreach (var mapping in new[] { functions.RegisterStream, functions.RecordBatchEvents, functions.Ingest, functions.CloseExecution }
                     .SelectMany(f => f.Node.Children.OfType<Amazon.CDK.AWS.Lambda.EventSourceMapping>()))
            mapping.Node.AddDependency(schema);
        monitoring.Watch(Settings.Monitoring, Workflow.StateMachine, streaming.Queue, streaming.DeadLetterQueue, batchEvents.DeadLetterQueue,
            batch.Queue, functions.Workflow, functions.Streams, Settings.Storage.LogRetentionDays);
        monitoring.WatchPrompt(Prompt.StateMachine, arrivals.DeadLetterQueue);
        monitoring.WatchJobApi(jobs.Api, functions.Api);
        monitoring.WatchEndedExecutions(ended.DeadLetterQueue);

        new CfnOutput(this, "StateMachineArn", new CfnOutputProps { Value = Workflow.StateMachine.StateMachineArn });
        new CfnOutput(this, "PromptStateMachineArn", new CfnOutputProps { Value = Prompt.StateMachine.StateMachineArn });
        new CfnOutput(this, "DiffStateMachineArn", new CfnOutputProps { Value = Diff.StateMachine.StateMachineArn });
        new CfnOutput(this, "JobApiUrl", new CfnOutputProps { Value = jobs.Url });
        new CfnOutput(this, "ProductsBucket", new CfnOutputProps { Value = Storage.Products.BucketName });
        new CfnOutput(this, "PipelineFilesBucket", new CfnOutputProps { Value = Storage.PipelineFiles.BucketName });
        new CfnOutput(this, "LogsBucket", new CfnOutputProps { Value = Storage.Logs.BucketName });
        new CfnOutput(this, "DataBucket", new CfnOutputProps { Value = Storage.Data.BucketName });
        new CfnOutput(this, "DatabaseEndpoint", new CfnOutputProps { Value = database.Host });
        new CfnOutput(this, "DatabaseSecretArn", new CfnOutputProps { Value = database.MasterSecret.SecretArn });
        new CfnOutput(this, "OperationsSecretArn", new CfnOutputProps { Value = database.OperationsSecret.SecretArn });
        new CfnOutput(this, "SourceRevision", new CfnOutputProps { Value = Revision.Value });
    }
}
