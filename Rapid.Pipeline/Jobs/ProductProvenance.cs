using System.Globalization;
using Rapid.Core.Contracts;
using Rapid.Pipeline.Fits;

namespace Rapid.Pipeline.Jobs;

/// <summary>
/// The provenance every product header carries: software version and commit, the processing date and the time the file
/// was written, the job, its input files (rid and name), and the hash of the settings the job ran with.
/// </summary>
public static class ProductProvenance
{
    public static void WriteTo(FitsHeader header, JobConfig config)
    {
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(config);
        var software = SoftwareInfo.Parse(SoftwareVersion.Current);
        header.Set("SOFTWARE", "rapid-pipeline", "software that made this file");
        header.Set("SWVERSN", software.Version.Split('+')[0], "its version");
        if (software.GitCommit is { } commit) header.Set("SWCOMMIT", commit, "its source commit");
        header.Set("DATE", DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture), "UTC time this file was written");
        header.Set("PROCDATE", config.ProcDate, "processing date (yyyyMMdd)");
        header.Set("JID", config.Jid, "job id");
        header.Set("CFGHASH", config.SettingsHash, "hash of the pipeline settings the job ran with");
        if (config.SettingsProfile is { } profile) header.Set("SETPROF", profile, "settings profile");
        IReadOnlyList<L2Image> inputs = [];
        switch (config.Spec)
        {
            case ScienceSpec science:
                header.Set("SCIRID", science.Science.Rid, "rid of the science image");
                header.Set("SCIFILE", science.Science.File.FileName, "science image file");
                if (science.Reference.Image is { } image) header.Set("REFFILE", image.FileName, "reference image file");
                inputs = science.Reference.Inputs;
                break;
            case ReferenceImageSpec reference:
                inputs = reference.Inputs;
                break;
        }
        for (var i = 0; i < inputs.Count; i++)
        {
            header.Set($"REFRID{i + 1:00}", inputs[i].Rid, "rid of a reference input");
            header.Set($"REFFIL{i + 1:00}", inputs[i].File.FileName, "its file");
        }
    }
}
