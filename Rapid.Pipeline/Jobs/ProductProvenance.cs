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
        var version = SoftwareVersion.Current;
        var plus = version.IndexOf('+');
        header.Set("SOFTWARE", "rapid-pipeline", "software that made this file");
        header.Set("SWVERSN", plus < 0 ? version : version[..plus], "its version");
        if (plus >= 0) header.Set("SWCOMMIT", version[(plus + 1)..], "its source commit");
        header.Set("DATE", DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture), "UTC time this file was written");
        header.Set("PROCDATE", config.ProcDate, "processing date (yyyyMMdd)");
        header.Set("JID", config.Jid, "job id");
        header.Set("CFGHASH", config.Settings.Hash(), "hash of the pipeline settings the job ran with");
        if (config.Science is { } science)
        {
            header.Set("SCIRID", science.Rid, "rid of the science image");
            header.Set("SCIFILE", science.File.FileName, "science image file");
        }
        if (config.Reference is { } reference)
        {
            if (reference.Image is { } image) header.Set("REFFILE", image.FileName, "reference image file");
            for (var i = 0; i < reference.Inputs.Count; i++)
            {
                header.Set($"REFRID{i + 1:00}", reference.Inputs[i].Rid, "rid of a reference input");
                header.Set($"REFFIL{i + 1:00}", reference.Inputs[i].File.FileName, "its file");
            }
        }
    }
}
