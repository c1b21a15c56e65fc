using System.Threading.Channels;
using Npgsql;
using Rapid.Core.Contracts;
using Rapid.Core.Storage;
using Rapid.Functions.Record;
using Rapid.Functions.Steps;

namespace Rapid.Cli.Engine;

/// <summary>
/// The engine's part of the operations record: the run's row in <c>runs</c> (begun once the window is resolved, with its
/// tag and what it was asked; ended with how it ended) and what the local executor saw of each job it ran (submitted,
/// running, succeeded or failed, with the process's exit code and the executor's reason), as Batch's job state-change
/// events give them on AWS.
/// </summary>
public sealed class RunRecorder
{
    private readonly NpgsqlDataSource _dataSource;

    private RunRecorder(NpgsqlDataSource dataSource, long runId)
    {
        _dataSource = dataSource;
        RunId = runId;
    }

    public long RunId { get; }

    public static async Task<RunRecorder> BeginAsync(NpgsqlDataSource dataSource, ResolvedWindow night, string? tag, bool force,
        ResubmissionPolicy resubmission, CancellationToken ct)
    {
        await using var conn = await dataSource.OpenConnectionAsync(ct);
        var runId = await Runs.BeginAsync(conn, new RunStart(night.ProcDate, tag, night.Window, Runs.Embedded, Host: Environment.MachineName,
            OptionsJson: Runs.OptionsJson(force, resubmission)), ct: ct);
        return new RunRecorder(dataSource, runId);
    }

    /// <summary>Ends the run: <see cref="RunStatuses.Succeeded"/> when it ran to its end, else failed or interrupted with the error.</summary>
    public async Task EndAsync(string status, string? error)
    {
        await using var conn = await _dataSource.OpenConnectionAsync(CancellationToken.None);
        await Runs.EndAsync(conn, RunId, status, error, CancellationToken.None);
    }

    /// <summary>
    /// Records the executor's view of the children of <paramref name="plan"/>'s array while it runs: every job submitted
    /// now, each running when its process started (<see cref="LocalBatchExecutor.ChildStarted"/>), each succeeded or failed
    /// when it ended (the outcomes reported to the returned progress, which passes them on to <paramref name="progress"/>).
    /// Dispose after the array ran: that waits for the records, and raises what failed to be recorded.
    /// </summary>
    public async Task<ExecutorStates> WatchAsync(LocalBatchExecutor executor, IObjectStore store, PlanResult plan, IProgress<ChildOutcome> progress,
        CancellationToken ct)
    {
        var states = new ExecutorStates(_dataSource, executor, progress);
        if (plan.JobList is not null && plan.ArraySize > 0)
        {
            var list = await Contract.ReadAsync<JobList>(store, plan.JobList, ct);
            var now = DateTimeOffset.UtcNow;
            foreach (var job in list.Jobs) states.Post(new BatchStateChange
            {
                Jid = job.Jid, State = JobStates.Submitted, At = now, Submitted = now, Source = StateSources.Executor,
            });
        }
        return states;
    }
}

/// <summary>
/// The local executor's state changes of one array, written to the record in the order they happened by one writer
/// (the executor reports them from its workers; a database round trip must not hold a child back).
/// </summary>
public sealed class ExecutorStates : IProgress<ChildOutcome>, IAsyncDisposable
{
    private readonly LocalBatchExecutor _executor;
    private readonly IProgress<ChildOutcome> _progress;
    private readonly Channel<BatchStateChange> _changes = Channel.CreateUnbounded<BatchStateChange>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writer;

    internal ExecutorStates(NpgsqlDataSource dataSource, LocalBatchExecutor executor, IProgress<ChildOutcome> progress)
    {
        _executor = executor;
        _progress = progress;
        _executor.ChildStarted += Started;
        _writer = Task.Run(async () =>
        {
            await foreach (var change in _changes.Reader.ReadAllAsync())
                await BatchStateChanges.RecordAsync(dataSource, [change]);
        });
    }

    internal void Post(BatchStateChange change) => _changes.Writer.TryWrite(change);

    private void Started(long jid, int processId)
    {
        var now = DateTimeOffset.UtcNow;
        if (jid > 0) Post(new BatchStateChange
        {
            Jid = jid, State = JobStates.Running, At = now, Started = now, Source = StateSources.Executor, Host = Environment.MachineName,
        });
    }

    public void Report(ChildOutcome value)
    {
        var now = DateTimeOffset.UtcNow;
        if (value.Jid > 0) Post(new BatchStateChange
        {
            Jid = value.Jid, State = value.ExitCode == 0 ? JobStates.Succeeded : JobStates.Failed, At = now, Stopped = now,
            ExitCode = value.ExitCode, Reason = value.Reason, Source = StateSources.Executor, Host = Environment.MachineName,
        });
        _progress.Report(value);
    }

    public async ValueTask DisposeAsync()
    {
        _executor.ChildStarted -= Started;
        _changes.Writer.TryComplete();
        await _writer;
    }
}
