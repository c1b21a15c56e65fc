using Rapid.Core.Contracts;
using Rapid.Core.Jobs;
using Rapid.Core.Pipelines;
using Rapid.Core.Storage;
using Rapid.Functions.Ingest;
using Rapid.Pipeline.Fits;

namespace Rapid.Functions.Api;

/// <summary>
/// A <c>diff</c> submitted to the AWS job API (<see cref="JobTypes.DiffObjects"/>): the user's own science image and reference
/// (image, coverage, uncertainty) as S3 objects under <c>s3://{pipeline bucket}/diff-inputs/</c>, the one prefix a diff may
/// name (the Batch jobs read the pipeline bucket already; the data bucket is not used because its FITS objects are ingested
/// as survey images). Checked at submission (<see cref="CheckAsync"/>: each input inside that prefix, present, readable,
/// and its header what the science job needs, by ranged GETs of the header only, as <c>rapid diff</c> checks a file:
/// <see cref="DiffInputHeaders"/>), then written as the job config and one-entry job list the pipeline image runs
/// (<see cref="PlanAsync"/>): the science pipeline (ppid 15) on a reference given as files (rfid 0), the job
/// <c>rapid diff</c> writes, under a job id reserved from the ops database's job sequence (no <c>jobs</c> row: like
/// <c>rapid diff</c>'s, a diff is outside the survey's record, so no registration, post-processing or night counts it).
/// Its keys are therefore every job's (<see cref="ObjectKeys"/>), except the manifest's name:
/// <list type="bullet">
/// <item>config <c>s3://{pipeline}/{procdate}/jid{jid}/job_config_jid{jid}.json</c>, list <c>s3://{pipeline}/{procdate}/plans/ppid15_diff-sub{id}.json</c>;</item>
/// <item>products <c>s3://{products}/{procdate}/jid{jid}/</c> (recorded as the submission's outdir), manifest
/// <c>{outdir}diff_manifest.json</c> (not <c>manifest_jid*.json</c>, so streaming registration leaves it alone);</item>
/// <item>log <c>s3://{logs}/{procdate}/rapid_pipeline_job_{procdate}_jid{jid}_log.txt</c>.</item>
/// </list>
/// </summary>
public sealed class DiffOnAws(IObjectStore store, ObjectKeys keys)
{
    /// <summary>The key prefix of the pipeline bucket a diff's inputs must be under.</summary>
    public const string InputPrefix = "diff-inputs/";

    /// <summary>The manifest's name among the diff's products.</summary>
    public const string ManifestFile = "diff_manifest.json";

    /// <summary>The inputs of a diff, each read and found usable, in the order the type declares them.</summary>
    public sealed record CheckedInputs(DiffInputInfo Science, ObjectRef ScienceImage, ObjectRef ReferenceImage, ObjectRef ReferenceCoverage,
        ObjectRef ReferenceUncertainty);

    /// <summary>What <see cref="PlanAsync"/> wrote: the job list the Batch job runs, and where its products and manifest go.</summary>
    public sealed record PlannedDiff(long Jid, ProcessingDate ProcDate, ObjectRef JobList, string OutDirectory, ObjectRef Manifest);

    /// <summary>Where a diff may read: s3://{pipeline bucket}/diff-inputs/.</summary>
    public string InputRoot => $"s3://{keys.Buckets.Pipeline}/{InputPrefix}";

    /// <summary>
    /// Each input of <paramref name="submission"/> checked, or a <see cref="JobInputException"/> naming the first input that is
    /// outside <see cref="InputRoot"/>, missing, unreadable, not a FITS image, or without what the science job needs.
    /// </summary>
    public async Task<CheckedInputs> CheckAsync(JobSubmission submission, CancellationToken ct = default)
    {
        var science = await CheckInputAsync(submission, JobTypes.DiffScienceObject, DiffInputRole.Science, ct);
        var image = await CheckInputAsync(submission, JobTypes.DiffReferenceImageObject, DiffInputRole.ReferenceImage, ct);
        var coverage = await CheckInputAsync(submission, JobTypes.DiffReferenceCoverageObject, DiffInputRole.ReferenceMap, ct);
        var uncertainty = await CheckInputAsync(submission, JobTypes.DiffReferenceUncertaintyObject, DiffInputRole.ReferenceMap, ct);
        return new CheckedInputs(science.Info, science.Object, image.Object, coverage.Object, uncertainty.Object);
    }

    private async Task<(DiffInputInfo Info, ObjectRef Object)> CheckInputAsync(JobSubmission submission, JobInput input, DiffInputRole role, CancellationToken ct)
    {
        var obj = ObjectRef.Parse(submission.Text(input)!);
        var name = obj.ToString();
        if (obj.Bucket != keys.Buckets.Pipeline || !obj.Key.StartsWith(InputPrefix, StringComparison.Ordinal)
            || obj.Key.Split('/').Any(segment => segment is "" or "." or ".."))
            throw new JobInputException(input.Name, $"{name} is outside {InputRoot} (the objects a diff may read; upload its files there)");
        var reads = store as IRangedObjectReads ?? throw new InvalidOperationException($"the object store {store.GetType().Name} cannot read ranges");
        try
        {
            using var header = new ObjectRangeStream(reads, obj, await store.SizeAsync(obj, ct));
            return (DiffInputHeaders.Check(FitsFile.ReadImageInfo(header, name), name, role), obj);
        }
        catch (ObjectNotFoundException) { throw new JobInputException(input.Name, $"{name}: no such object"); }
        catch (FitsFormatException e) { throw new JobInputException(input.Name, $"{name}: {e.Problem}"); }
        catch (InvalidDataException e) { throw new JobInputException(input.Name, $"{name}: {e.Message}"); }
        catch (Exception e) when (e is not (OperationCanceledException or JobInputException))
        {
            // Access denied, a KMS key the reader may not use, an object that shrank while read: unreadable by the job too.
            throw new JobInputException(input.Name, $"{name} cannot be read: {e.Message.ReplaceLineEndings(" ")}");
        }
    }

    /// <summary>
    /// Writes the diff's job config (the science job on the checked inputs, as <c>rapid diff</c> runs it, with
    /// <paramref name="settings"/>: the stack's settings profile, <paramref name="profile"/>, as the night's plans give their
    /// jobs, or the defaults) and its one-entry job list, under job id <paramref name="jid"/> on <paramref name="date"/>.
    /// </summary>
    public async Task<PlannedDiff> PlanAsync(long subid, long jid, ProcessingDate date, CheckedInputs inputs, PipelineSettings settings,
        string? profile, CancellationToken ct = default)
    {
        var science = inputs.Science;
        var spec = new ScienceSpec
        {
            // rid 0 and rfid 0: images given as files, not rows of the ops database.
            Science = science.AsL2Image(0, science.CentreField(), inputs.ScienceImage),
            Reference = new ReferenceSource
            {
                Rfid = 0, Version = 1, Image = inputs.ReferenceImage, Coverage = inputs.ReferenceCoverage, Uncertainty = inputs.ReferenceUncertainty,
            },
        };
        var config = keys.JobConfig(date, jid);
        var manifest = Manifest(date, jid);
        await Contract.WriteAsync(store, config,
            new JobConfig { Jid = jid, ProcDate = date.ToString(), Spec = spec, Settings = settings, SettingsProfile = profile }, ct);
        var list = keys.JobList(date, PipelineIds.Science, $"diff-sub{subid}");
        await Contract.WriteAsync(store, list, new JobList { Ppid = PipelineIds.Science, ProcDate = date.ToString(), Jobs = [new JobListEntry(jid, config, manifest)] }, ct);
        return new PlannedDiff(jid, date, list, OutDirectory(date, jid), manifest);
    }

    /// <summary>The prefix of a diff's products (its submission's outdir).</summary>
    public string OutDirectory(ProcessingDate date, long jid) => $"s3://{keys.Buckets.Products}/{ObjectKeys.JobPrefix(date, jid)}";

    public ObjectRef Manifest(ProcessingDate date, long jid) => keys.Product(date, jid, ManifestFile);

    /// <summary>The manifest of the diff whose products are under <paramref name="outDirectory"/>; null until the job has written it.</summary>
    public async Task<ProductManifest?> ManifestAsync(string outDirectory, CancellationToken ct = default)
    {
        var manifest = ObjectRef.Parse(outDirectory + ManifestFile);
        try { return await Contract.ReadAsync<ProductManifest>(store, manifest, ct); }
        catch (ObjectNotFoundException) { return null; }
    }

    /// <summary>Whether a diff whose job wrote <paramref name="manifest"/> succeeded: it made its products (as <c>rapid serve</c> judges a diff).</summary>
    public static bool Succeeded(ProductManifest manifest) => ExitCodes.HasProducts(manifest.ExitCode) && manifest.ExitCode < ExitCodes.Error;
}
