using Npgsql;
using Rapid.Core.Sky;
using Rapid.Core.Storage;
using Rapid.Functions.Ingest;
using Rapid.Functions.Steps;
using Rapid.Pipeline.Simulation;

namespace Rapid.Cli.Ingest;

/// <summary>
/// Makes a simulated survey and registers it: images and their truth catalogs go to the store's data bucket
/// (written in place when the output directory is inside it, else copied), then exposures and L2 files are registered
/// in one transaction.
/// </summary>
public static class SimulatedSurveyIngest
{
    /// <summary>Field centres of <paramref name="count"/> adjacent sky tiles (a quiet high-latitude patch).</summary>
    public static IReadOnlyList<(double RaDeg, double DecDeg)> TileCentres(int count, double raDeg = 9.5, double decDeg = -44.0)
    {
        if (count < 1) throw new ArgumentException($"--fields {count}: must be at least 1");
        var sky = SkyTessellation.Roman;
        var first = sky.Tile(sky.FieldOf(raDeg, decDeg));
        // Every other tile along the band, so fields' images do not overlap each other's tiles.
        return Enumerable.Range(0, count).Select(i => sky.Tile(first.Field + 2 * i)).Select(t => (t.CenterRaDeg, t.CenterDecDeg)).ToList();
    }

    public static async Task<IReadOnlyList<L2FileRegistered>> RegisterAsync(
        SimulatedSurvey survey, DirectoryObjectStore store, Buckets buckets, NpgsqlDataSource db, CancellationToken ct = default)
    {
        var bucketDir = Path.Combine(store.Root, buckets.Data);
        var inStore = Path.GetFullPath(survey.Directory).StartsWith(bucketDir + Path.DirectorySeparatorChar, StringComparison.Ordinal);
        var registrations = new L2FileRegistration[survey.Images.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, survey.Images.Count), ct, async (i, token) =>
        {
            var image = survey.Images[i];
            var key = inStore
                ? Path.GetRelativePath(bucketDir, image.Path).Replace(Path.DirectorySeparatorChar, '/')
                : $"sim/{Path.GetFileName(survey.Directory.TrimEnd('/'))}/{Path.GetRelativePath(survey.Directory, image.Path).Replace(Path.DirectorySeparatorChar, '/')}";
            var file = new ObjectRef(buckets.Data, key);
            if (!inStore)
            {
                await store.PutFileAsync(file, image.Path, token);
                // The truth goes beside the image, where the science job looks for it to score the simulated transients.
                if (SimulatedFiles.TruthKeyFor(key) is string truthKey && File.Exists(image.TruthPath))
                    await store.PutFileAsync(new ObjectRef(buckets.Data, truthKey), image.TruthPath, token);
            }
            registrations[i] = L2FileHeaderReader.Read(image.Path, file);
        });
        return await new RegisterSurveyImages(db).RegisterAsync(registrations, ct);
    }
}
