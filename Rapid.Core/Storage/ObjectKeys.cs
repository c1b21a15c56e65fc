using Rapid.Core.Jobs;

namespace Rapid.Core.Storage;

/// <summary>
/// Object keys: everything a job reads or writes lives under <c>{procdate}/jid{jid}/</c>, so
/// reprocessing on another date gets new keys and reprocessing on the same date overwrites.
/// </summary>
public sealed class ObjectKeys(Buckets buckets)
{
    public Buckets Buckets { get; } = buckets;

    public static string JobPrefix(ProcessingDate procDate, long jid) => $"{procDate}/jid{jid}/";

    public ObjectRef JobConfig(ProcessingDate procDate, long jid) =>
        new(Buckets.Pipeline, $"{JobPrefix(procDate, jid)}job_config_jid{jid}.json");

    /// <summary>The list of jobs of one planned array (one per pipeline per plan).</summary>
    public ObjectRef JobList(ProcessingDate procDate, int ppid, string planId) =>
        new(Buckets.Pipeline, $"{procDate}/plans/ppid{ppid}_{planId}.json");

    public ObjectRef Product(ProcessingDate procDate, long jid, string fileName) =>
        new(Buckets.Products, $"{JobPrefix(procDate, jid)}{fileName}");

    public ObjectRef Manifest(ProcessingDate procDate, long jid) => Product(procDate, jid, $"manifest_jid{jid}.json");

    public ObjectRef Log(ProcessingDate procDate, long jid) =>
        new(Buckets.Logs, $"{procDate}/rapid_pipeline_job_{procDate}_jid{jid}_log.txt");

    /// <summary>The night report of a processing date (one self-contained HTML page), beside the night's products.</summary>
    public ObjectRef NightReport(ProcessingDate procDate) =>
        new(Buckets.Products, $"{procDate}/rapid_night_report_{procDate}.html");

    /// <summary>The L2 image of an exposure's SCA, as the survey ingest stores it.</summary>
    public ObjectRef L2File(string fileName) => new(Buckets.Data, fileName);
}
