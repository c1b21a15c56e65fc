using Rapid.Core.Jobs;

namespace Rapid.Functions.Report.Data;

/// <summary>How a job ended, as the night's summary and report count it.</summary>
public enum JobOutcomeClass
{
    /// <summary>Exit 0–31.</summary>
    Succeeded,
    /// <summary>Exit 32–63 except 33: products made, some step degraded them.</summary>
    Degraded,
    /// <summary>Exit 33: no reference image possible (too few earlier images); nothing to do, not a fault.</summary>
    NoReference,
    /// <summary>Exit 64+ except 70.</summary>
    Failed,
    /// <summary>Exit 70: ended without a manifest (crashed, killed, timed out).</summary>
    Lost,
    /// <summary>Not closed out (still running, or the run stopped before registering it).</summary>
    Open,
}

public static class JobOutcomeClasses
{
    public static JobOutcomeClass Of(int status, int? exitCode) => (status, exitCode) switch
    {
        (0, _) or (_, null) => JobOutcomeClass.Open,
        (_, ExitCodes.NoReferenceImage) => JobOutcomeClass.NoReference,
        (_, ExitCodes.Lost) => JobOutcomeClass.Lost,
        (_, int c) => ExitCodes.Severity(c) switch
        {
            ExitCodeSeverity.Normal => JobOutcomeClass.Succeeded,
            ExitCodeSeverity.Warning => JobOutcomeClass.Degraded,
            _ => JobOutcomeClass.Failed,
        },
    };

    public static string Title(this JobOutcomeClass outcome) => outcome switch
    {
        JobOutcomeClass.Succeeded => "succeeded",
        JobOutcomeClass.Degraded => "degraded",
        JobOutcomeClass.NoReference => "no reference",
        JobOutcomeClass.Failed => "failed",
        JobOutcomeClass.Lost => "lost",
        JobOutcomeClass.Open => "open",
        _ => outcome.ToString(),
    };

    /// <summary>Outcomes that are faults of the run (the failures section lists them).</summary>
    public static bool IsFault(this JobOutcomeClass outcome) => outcome is JobOutcomeClass.Failed or JobOutcomeClass.Lost or JobOutcomeClass.Open;
}
