using Rapid.Pipeline.Fits;

namespace Rapid.Pipeline.Simulation;

/// <summary>
/// Generates a Roman-like survey on disk: for every (field, filter, epoch, SCA) an L2 image shaped like the
/// OpenUniverse "lite" files and its truth catalog, then the survey truth and light-curve tables.
/// Deterministic for a seed: the same spec gives byte-identical pixels whatever the thread count.
/// Images render in parallel (one per core); the progress callback of <see cref="Generate"/> receives the number of images written so far.
/// </summary>
public static class SurveySimulator
{
    public static SimulatedSurvey Generate(SurveySpec spec, string outDir, IProgress<int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        if (string.IsNullOrWhiteSpace(outDir)) throw new ArgumentException("simulate: the output directory is empty");
        var root = Path.GetFullPath(outDir);
        try
        {
            Directory.CreateDirectory(Path.Combine(root, SimulatedFiles.ImagesFolder));
            Directory.CreateDirectory(Path.Combine(root, SimulatedFiles.TruthFolder));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"simulate: cannot create the output directory {root}: {ex.Message}", ex);
        }

        var plans = SurveySchedule.Plan(spec);
        var populations = Enumerable.Range(0, spec.FieldCentres.Count).Select(f => FieldPopulation.Generate(spec, f)).ToList();
        var images = new SimulatedImage[plans.Count];
        var variableRows = new IReadOnlyList<TruthRow>[plans.Count];
        var done = 0;
        Parallel.For(0, plans.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
        {
            var plan = plans[i];
            var exposure = ExposureRenderer.Render(spec, plan, populations[plan.FieldIndex]);
            var header = SimulatedFiles.ScienceHeader(spec, exposure);
            var imageName = SimulatedFiles.ImageFileName(plan);
            var imagePath = Path.Combine(root, SimulatedFiles.ImagesFolder, imageName);
            var truthPath = Path.Combine(root, SimulatedFiles.TruthFolder, SimulatedFiles.TruthFileName(plan));
            SimulatedFiles.WriteImage(imagePath, spec, exposure, header);
            SimulatedFiles.WriteImageTruth(truthPath, imageName, spec, exposure);
            images[i] = new SimulatedImage(imagePath, truthPath, plan.Filter.Name, plan.DateObsUtc, plan.MjdObs,
                spec.ExposureTimeSeconds, plan.Sca, plan.TargetRaDeg, plan.TargetDecDeg, plan.PaDeg, exposure.ZeroPointMag,
                plan.FieldIndex, plan.Epoch, plan.Pointing, exposure.Width, exposure.Height, header);
            variableRows[i] = exposure.Truth.Where(t => t.Type is SkyObjectType.Transient or SkyObjectType.Variable).ToList();
            progress?.Report(Interlocked.Increment(ref done));
        });

        var objectsPath = Path.Combine(root, SimulatedFiles.ObjectsTruthFile);
        WriteObjects(objectsPath, spec, populations);
        var curvesPath = Path.Combine(root, SimulatedFiles.LightCurvesFile);
        WriteLightCurves(curvesPath, spec, plans, images, variableRows);
        return new SimulatedSurvey(spec, root, images, objectsPath, curvesPath);
    }

    /// <summary>Every object of every field: FIELD, ID, TYPE, RA, DEC, HOSTID, MAG_{filter} (AB at light-curve factor 1: peak for transients, mean for variables).</summary>
    private static void WriteObjects(string path, SurveySpec spec, IReadOnlyList<IReadOnlyList<SkyObject>> populations)
    {
        var rows = populations.SelectMany((objects, field) => objects.Select(o => (Field: field, Object: o))).ToList();
        var t = new FitsTable("OBJECTS");
        t.AddColumn("FIELD", rows.Select(r => r.Field).ToArray());
        t.AddColumn("ID", rows.Select(r => r.Object.Id).ToArray());
        t.AddColumn("TYPE", rows.Select(r => SkyObject.TypeName(r.Object.Type)).ToArray(), 9);
        t.AddColumn("RA", rows.Select(r => r.Object.RaDeg).ToArray(), "deg");
        t.AddColumn("DEC", rows.Select(r => r.Object.DecDeg).ToArray(), "deg");
        t.AddColumn("HOSTID", rows.Select(r => r.Object.HostId).ToArray());
        foreach (var f in spec.ResolvedFilters())
            t.AddColumn($"MAG_{f.Name}", rows.Select(r => r.Object.ReferenceMagnitudes[f.Name]).ToArray(), "mag");
        t.AddColumn("REFF", rows.Select(r => r.Object.EffectiveRadiusArcsec).ToArray(), "arcsec");
        t.AddColumn("SERSIC_N", rows.Select(r => r.Object.SersicIndex).ToArray());
        FitsFile.WriteTable(path, SurveyPrimary(spec), t);
    }

    /// <summary>Per exposure, every transient and variable on the image: FIELD, ID, TYPE, FILTER, EPOCH, POINTING, MJD, X, Y, MAG (NaN when dark), FLUX [DN], IMAGE.</summary>
    private static void WriteLightCurves(string path, SurveySpec spec, IReadOnlyList<ExposurePlan> plans,
        IReadOnlyList<SimulatedImage> images, IReadOnlyList<IReadOnlyList<TruthRow>> rowsPerImage)
    {
        var rows = plans.SelectMany((p, i) => rowsPerImage[i].Select(r => (Plan: p, Image: images[i], Row: r))).ToList();
        var t = new FitsTable("LIGHTCURVES");
        t.AddColumn("FIELD", rows.Select(r => r.Plan.FieldIndex).ToArray());
        t.AddColumn("ID", rows.Select(r => r.Row.Id).ToArray());
        t.AddColumn("TYPE", rows.Select(r => SkyObject.TypeName(r.Row.Type)).ToArray(), 9);
        t.AddColumn("FILTER", rows.Select(r => r.Plan.Filter.Name).ToArray(), 4);
        t.AddColumn("EPOCH", rows.Select(r => r.Plan.Epoch).ToArray());
        t.AddColumn("POINTING", rows.Select(r => r.Plan.Pointing).ToArray());
        t.AddColumn("MJD", rows.Select(r => r.Plan.MjdObs).ToArray(), "d");
        t.AddColumn("X", rows.Select(r => r.Row.X).ToArray(), "pix");
        t.AddColumn("Y", rows.Select(r => r.Row.Y).ToArray(), "pix");
        t.AddColumn("MAG", rows.Select(r => double.IsFinite(r.Row.Mag) ? r.Row.Mag : double.NaN).ToArray(), "mag");
        t.AddColumn("FLUX", rows.Select(r => r.Row.FluxDn).ToArray(), "DN");
        var width = Math.Max(1, rows.Select(r => Path.GetFileName(r.Image.Path).Length).DefaultIfEmpty(1).Max());
        t.AddColumn("IMAGE", rows.Select(r => Path.GetFileName(r.Image.Path)).ToArray(), width);
        FitsFile.WriteTable(path, SurveyPrimary(spec), t);
    }

    private static FitsHeader SurveyPrimary(SurveySpec spec)
    {
        var h = new FitsHeader();
        h.Set("ORIGIN", "Rapid survey simulator");
        h.Set("SIMSEED", (long)spec.Seed, "simulator seed");
        h.Set("NFIELDS", (long)spec.FieldCentres.Count);
        h.Set("FILTERS", string.Join(",", spec.ResolvedFilters().Select(f => f.Name)));
        h.Set("NEPOCHS", (long)spec.Epochs);
        h.Set("NAXIS_IM", (long)spec.Size, "image size (pixels)");
        return h;
    }
}
