namespace Rapid.Core.Jobs;

/// <summary>Severity of an exit code under the "Spitzer convention" the original system uses.</summary>
public enum ExitCodeSeverity { Normal, Warning, Error }

/// <summary>
/// Exit codes of pipeline jobs: 0–31 normal, 32–63 warning (the job made something useful),
/// 64+ error (nothing useful was made). The manifest carries the job's exit code; the process
/// exits with <see cref="ProcessExitCode"/>, so Batch sees a warning as success and an error as a failure.
/// </summary>
public static class ExitCodes
{
    public const int Success = 0;

    /// <summary>Products were made but some step degraded them (named in the manifest's warnings).</summary>
    public const int Degraded = 32;

    /// <summary>No reference image is possible (too few overlapping earlier images). No products.</summary>
    public const int NoReferenceImage = 33;

    /// <summary>Unclassified error.</summary>
    public const int Error = 64;

    /// <summary>An input named by the job config is missing, unreadable or not valid (FITS, WCS, EXPTIME...).</summary>
    public const int InvalidInput = 65;

    /// <summary>The job's log could not be uploaded (as in the original).</summary>
    public const int LogUploadFailed = 66;

    /// <summary>The job config is missing, unparseable or of an unsupported schema version.</summary>
    public const int InvalidConfig = 67;

    /// <summary>
    /// Set by registration, never by a job: the job ended without writing a manifest
    /// (crashed, killed, timed out or never started).
    /// </summary>
    public const int Lost = 70;

    /// <summary>
    /// Set by registration, never by a job: the job's manifest failed validation (a field out of range, a product key
    /// outside the job's prefix, a contradiction with the job as planned). Nothing of it is registered.
    /// </summary>
    public const int InvalidManifest = 71;

    /// <summary>The largest exit code a process can have.</summary>
    public const int Max = 255;

    /// <summary>Whether a job may end with <paramref name="code"/>: 0–255, and none that only registration sets.</summary>
    public static bool IsJobExitCode(int code) => code is >= 0 and <= Max && code != Lost && code != InvalidManifest;

    public static ExitCodeSeverity Severity(int code) => code switch
    {
        < 0 => ExitCodeSeverity.Error,
        <= 31 => ExitCodeSeverity.Normal,
        <= 63 => ExitCodeSeverity.Warning,
        _ => ExitCodeSeverity.Error,
    };

    /// <summary>
    /// The container's exit code for a job's exit code: 0 unless it is an error. AWS Batch marks any
    /// non-zero exit FAILED, and one FAILED child fails its whole array job, so a warning (e.g. 32,
    /// too few stars to match fluxes) must exit 0 or every such night would take the state machine's
    /// failure path and count in the failed-jobs alarm. The warning itself is in the manifest.
    /// </summary>
    public static int ProcessExitCode(int code) => Severity(code) == ExitCodeSeverity.Error ? code : Success;

    /// <summary>True when the job's products may be registered.</summary>
    public static bool HasProducts(int code) => Severity(code) != ExitCodeSeverity.Error && code != NoReferenceImage;

    public static string Describe(int code) => code switch
    {
        Success => "success",
        Degraded => "degraded result",
        NoReferenceImage => "no reference image possible",
        Error => "error",
        InvalidInput => "invalid input",
        LogUploadFailed => "log upload failed",
        InvalidConfig => "invalid job config",
        Lost => "job lost (no manifest)",
        InvalidManifest => "manifest rejected by registration",
        _ => Severity(code).ToString().ToLowerInvariant(),
    };
}
