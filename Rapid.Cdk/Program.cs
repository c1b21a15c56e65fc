using Amazon.CDK;
using Rapid.Cdk;

// `npx cdk synth` runs this (cdk.json). Account and region come from the CLI's profile when it
// has one; without credentials the stack is environment-agnostic and synth still works offline.
var app = new App();
new RapidStack(app, app.Node.TryGetContext("rapid:stackName") as string ?? "Rapid", new StackProps
{
    Env = new Amazon.CDK.Environment
    {
        Account = System.Environment.GetEnvironmentVariable("CDK_DEFAULT_ACCOUNT"),
        Region = System.Environment.GetEnvironmentVariable("CDK_DEFAULT_REGION"),
    },
    Description = "Rapid: RAPID difference-imaging operations (Batch, Step Functions, RDS, S3)",
});
app.Synth();
