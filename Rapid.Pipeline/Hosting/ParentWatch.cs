using System.Runtime.InteropServices;
using Rapid.Core.Batch;

namespace Rapid.Pipeline.Hosting;

/// <summary>
/// In embedded mode a job is a child of the <c>rapid</c> process that runs the night. When that process dies
/// without killing it (SIGKILL, a crash, an OOM kill), the job would run on as an orphan and write products
/// and a manifest under the keys the next run of the night re-plans and writes again. The local executor
/// names itself in <see cref="BatchEnvironment.ParentPidVariable"/>; this watch ends the job once it has been
/// re-parented. On AWS Batch the variable is not set and nothing is watched. (Linux's PR_SET_PDEATHSIG is
/// not used: it fires when the parent's forking thread exits, which in .NET is any pool thread.)
/// </summary>
public static partial class ParentWatch
{
    /// <summary>Exit code of a job ended because its parent is gone: 128 + SIGHUP, as a shell's orphaned jobs.</summary>
    public const int OrphanedExitCode = 129;

    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);

    /// <summary>Starts the watch when the environment names a parent; returns whether it did.</summary>
    public static bool StartFromEnvironment(Func<string, string?>? lookup = null)
    {
        lookup ??= Environment.GetEnvironmentVariable;
        if (!OperatingSystem.IsLinux() || !int.TryParse(lookup(BatchEnvironment.ParentPidVariable), out var parent) || parent <= 1)
            return false;
        if (getppid() != parent) Exit(parent); // already gone before we looked
        var thread = new Thread(() =>
        {
            while (true)
            {
                Thread.Sleep(Interval);
                if (getppid() != parent) Exit(parent);
            }
        })
        { IsBackground = true, Name = "parent watch" };
        thread.Start();
        return true;
    }

    private static void Exit(int parent)
    {
        Console.Error.WriteLine($"rapid-pipeline: the process that started this job (pid {parent}) is gone; ending the job");
        Environment.Exit(OrphanedExitCode);
    }

    [LibraryImport("libc")]
    private static partial int getppid();
}
