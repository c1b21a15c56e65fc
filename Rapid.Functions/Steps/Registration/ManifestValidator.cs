using System.Globalization;
using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Pipelines;
using Rapid.Core.Storage;

namespace Rapid.Functions.Steps.Registration;

/// <summary>A manifest field that failed validation: its JSON path (e.g. <c>products[2].file</c>) and what is wrong.</summary>
public sealed record ManifestViolation(string Field, string Problem)
{
    public override string ToString() => $"{Field}: {Problem}";
}

/// <summary>
/// Checks every field of a manifest before anything of it is registered: against the key layout of its own job (the
/// manifest and every product under <c>{procdate}/jid{jid}/</c> of the products bucket; no "..", "//", other buckets),
/// the envelope's ranges (exit code 0–255 and not one only registration sets, times in order, attempt 1–10, sizes and
/// seconds finite and not negative, digests of the right form) and the pipeline's outcome (its registrar's rules).
/// What the job row knows (ppid, procdate, rid, field, filter, parent, planned config) is checked in the database
/// (<c>begin_registration</c>).
/// </summary>
public static class ManifestValidator
{
    /// <summary>AWS Batch runs a job at most 10 times (its retry strategy's limit).</summary>
    public const int MaxAttempts = 10;
    public const int MaxReasonLength = 4000;
    /// <summary>A manifest may not claim to have ended later than this after it is registered (clock skew between hosts).</summary>
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromHours(1);
    private static readonly DateTimeOffset Earliest = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// Whether <paramref name="source"/> is where the job the manifest names writes its manifest. A manifest anywhere
    /// else is not that job's (it may be an attacker's copy): it is refused without touching the job.
    /// </summary>
    public static ManifestViolation? CheckKey(ProductManifest m, ObjectRef source, ObjectKeys keys)
    {
        if (!ProcessingDate.TryParse(m.ProcDate, out var procDate))
            return new("procDate", $"'{m.ProcDate}' is not a processing date (yyyyMMdd)");
        var expected = keys.Manifest(procDate, m.Jid);
        return source == expected ? null : new("key", $"a manifest of job {m.Jid} belongs at {expected}, not {source}");
    }

    /// <summary>The first field that is wrong, or null. <paramref name="now"/> bounds the times (clock skew allowed).</summary>
    public static ManifestViolation? Validate(ProductManifest m, ObjectRef source, ObjectKeys keys, DateTimeOffset now)
    {
        if (CheckKey(m, source, keys) is { } key) return key;
        var procDate = ProcessingDate.Parse(m.ProcDate);
        if (m.Jid <= 0) return new("jid", $"{m.Jid} is not a job id");
        if (!PipelineIds.All.Contains(m.Ppid)) return new("ppid", $"{m.Ppid} is not a pipeline");
        if (!ExitCodes.IsJobExitCode(m.ExitCode))
            return new("exitCode", $"{m.ExitCode} is not an exit code a job ends with (0-{ExitCodes.Max}, not {ExitCodes.Lost} or {ExitCodes.InvalidManifest})");
        if (m.Reason is { Length: > MaxReasonLength }) return new("reason", $"{m.Reason.Length} characters, at most {MaxReasonLength}");
        if (ExitCodes.Severity(m.ExitCode) == ExitCodeSeverity.Error && string.IsNullOrWhiteSpace(m.Reason))
            return new("reason", $"exit code {m.ExitCode} is an error and needs a reason");
        for (var i = 0; i < m.Warnings.Count; i++)
        {
            if (!Enum.IsDefined(m.Warnings[i].Kind)) return new($"warnings[{i}].kind", $"{(int)m.Warnings[i].Kind} is not a warning kind");
            if (string.IsNullOrWhiteSpace(m.Warnings[i].Message)) return new($"warnings[{i}].message", "is empty");
            if (m.Warnings[i].Message.Length > MaxReasonLength) return new($"warnings[{i}].message", $"longer than {MaxReasonLength} characters");
        }
        if (TimeProblem(m.Started, now) is { } started) return new("started", started);
        if (TimeProblem(m.Ended, now) is { } ended) return new("ended", ended);
        if (m.Ended < m.Started) return new("ended", $"{Show(m.Ended)} is before started {Show(m.Started)}");
        if (m.Batch.Attempt is < 1 or > MaxAttempts) return new("batch.attempt", $"{m.Batch.Attempt} is not an attempt (1-{MaxAttempts})");
        if (m.Batch.ArrayIndex is < 0) return new("batch.arrayIndex", $"{m.Batch.ArrayIndex} is negative");
        if (Seconds(m.Resources.WallSeconds) is { } wall) return new("resources.wallSeconds", wall);
        if (Seconds(m.Resources.CpuSeconds) is { } cpu) return new("resources.cpuSeconds", cpu);
        if (m.Resources.PeakMemoryBytes < 0) return new("resources.peakMemoryBytes", $"{m.Resources.PeakMemoryBytes} is negative");
        if (m.ConfigSha256.Length > 0 && !IsHex(m.ConfigSha256, 64)) return new("configSha256", "is not a SHA-256 (64 hex digits)");
        for (var i = 0; i < m.Timeline.Count; i++)
        {
            var s = m.Timeline[i];
            if (string.IsNullOrWhiteSpace(s.Name)) return new($"timeline[{i}].name", "is empty");
            if (Seconds(s.WallSeconds) is { } w) return new($"timeline[{i}].wallSeconds", w);
            if (Seconds(s.CpuSeconds) is { } c) return new($"timeline[{i}].cpuSeconds", c);
            if (s.Ended < s.Started) return new($"timeline[{i}].ended", $"{Show(s.Ended)} is before its start {Show(s.Started)}");
        }

        var hasProducts = ExitCodes.HasProducts(m.ExitCode);
        if (!hasProducts && m.Products.Count > 0) return new("products", $"exit code {m.ExitCode} registers no products, the manifest lists {m.Products.Count}");
        if (!hasProducts && m.Outcome is not null) return new("outcome", $"exit code {m.ExitCode} has no outcome");
        if (hasProducts && m.Outcome is null) return new("outcome", $"missing: exit code {m.ExitCode} has products");
        if (m.Outcome is { } o && o.Ppid != m.Ppid) return new("outcome.pipeline", $"is for ppid {o.Ppid}, the manifest's job is ppid {m.Ppid}");
        var roles = new HashSet<string>(StringComparer.Ordinal);
        var prefix = ObjectKeys.JobPrefix(procDate, m.Jid);
        for (var i = 0; i < m.Products.Count; i++)
        {
            var p = m.Products[i];
            if (!ProductRoles.All.Contains(p.Role)) return new($"products[{i}].role", $"'{p.Role}' is not a product role");
            if (!roles.Add(p.Role)) return new($"products[{i}].role", $"'{p.Role}' is listed twice");
            if (ProductFileProblem(p, keys, prefix) is { } problem) return new($"products[{i}].{problem.Field}", problem.Problem);
        }
        return null;
    }

    /// <summary>What is wrong with a product file of the job whose prefix is <paramref name="prefix"/>: its key or its checksum.</summary>
    public static ManifestViolation? ProductFileProblem(ProductFile p, ObjectKeys keys, string prefix)
    {
        if (KeyProblem(p.File, keys.Buckets.Products, prefix) is { } file) return new("file", file);
        if (p.Checksum.SizeBytes < 0) return new("checksum.sizeBytes", $"{p.Checksum.SizeBytes} is negative");
        if (!IsHex(p.Checksum.Sha256, 64)) return new("checksum.sha256", "is not a SHA-256 (64 hex digits)");
        if (!IsHex(p.Checksum.Md5, 32)) return new("checksum.md5", "is not an MD5 (32 hex digits)");
        return null;
    }

    /// <summary>
    /// An object a job wrote must be a plain file name directly under the job's own prefix in <paramref name="bucket"/>:
    /// no other bucket, no "..", no empty segment ("//"), no control or backslash characters.
    /// </summary>
    public static string? KeyProblem(ObjectRef file, string bucket, string prefix)
    {
        if (file.Bucket != bucket) return $"{file} is not in the bucket {bucket}";
        if (!file.Key.StartsWith(prefix, StringComparison.Ordinal)) return $"{file} is not under the job's prefix {prefix}";
        var name = file.Key[prefix.Length..];
        if (name.Length == 0 || name.Contains('/') || name is "." or ".." || name.Contains("..", StringComparison.Ordinal)
            || name.Any(c => char.IsControl(c) || c == '\\'))
            return $"'{name}' is not a plain file name under {prefix}";
        return null;
    }

    /// <summary>A value that must be finite (and, unless <paramref name="mayBeNegative"/>, not negative).</summary>
    public static string? Finite(double value, bool mayBeNegative = false) =>
        !double.IsFinite(value) ? $"{value.ToString(CultureInfo.InvariantCulture)} is not a finite number"
        : !mayBeNegative && value < 0 ? $"{value.ToString(CultureInfo.InvariantCulture)} is negative" : null;

    private static string? Seconds(double value) => Finite(value);

    private static string? TimeProblem(DateTimeOffset t, DateTimeOffset now) =>
        t < Earliest ? $"{Show(t)} is not a time a job ran"
        : t > now + MaxClockSkew ? $"{Show(t)} is in the future" : null;

    private static string Show(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static bool IsHex(string s, int length) => s.Length == length && s.All(char.IsAsciiHexDigit);
}
