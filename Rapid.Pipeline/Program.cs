using Rapid.Pipeline.Jobs;

// The pipeline container's entry point. AWS Batch runs it for every array child, the local executor
// as a child process with the same environment (see Rapid.Core.Batch.BatchEnvironment).
if (args is ["--version"])
{
    Console.WriteLine(SoftwareVersion.Current);
    return 0;
}
if (args.Length > 0)
{
    Console.Error.WriteLine("usage: Rapid.Pipeline [--version]   (the job comes from RAPID_JOB_LIST and AWS_BATCH_JOB_ARRAY_INDEX)");
    return 2;
}
// Embedded mode: end with the rapid process that started this job (no orphans when it is killed).
Rapid.Pipeline.Hosting.ParentWatch.StartFromEnvironment();
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };
try
{
    // The job's own code (a warning too) is in its manifest; Batch only needs to know whether it failed.
    return Rapid.Core.Jobs.ExitCodes.ProcessExitCode(await new JobRunner(Environment.GetEnvironmentVariable).RunAsync(cancel.Token));
}
catch (Exception e)
{
    // Only reached when even the manifest could not be written; registration then closes the job as lost.
    Console.Error.WriteLine($"rapid-pipeline: {e.GetType().Name}: {e.Message}");
    return Rapid.Core.Jobs.ExitCodes.Error;
}
