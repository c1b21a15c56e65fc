using System.Reflection;
using System.Text.Json;

namespace Rapid.Cli.Bench.ImageSets;

/// <summary>
/// Renders an image set with a tool Rapid did not write (<see cref="ImageSetRenderers"/>) by running the rendering
/// script shipped inside this assembly (render_image_set.py) with Debian's python3: astropy places every source through
/// each frame's TAN-SIP WCS, the chosen tool draws it, numpy adds the noise. The tools are Debian packages that
/// <c>./rapid</c> installs; a missing one is named with its package.
/// </summary>
public static class IndependentRenderer
{
    /// <summary>Debian's interpreter, which sees Debian's python3-astropy and python3-photutils.</summary>
    public const string Python = "/usr/bin/python3";
    private const string ScriptResource = "Rapid.Cli.Bench.ImageSets.render_image_set.py";

    /// <summary>Renders the set into <paramref name="directory"/> (created) and returns it.</summary>
    public static async Task<ImageSet> RenderAsync(ImageSetSpec spec, string directory, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var package = ImageSetRenderers.PackageOf(spec.Renderer);
        RequireTool(spec.Renderer, package);
        Directory.CreateDirectory(directory);
        var script = Path.Combine(directory, "render_image_set.py");
        await using (var resource = Assembly.GetExecutingAssembly().GetManifestResourceStream(ScriptResource)
                                    ?? throw new InvalidOperationException($"the rendering script {ScriptResource} is not embedded"))
        await using (var file = File.Create(script))
            await resource.CopyToAsync(file, ct);
        var specPath = Path.Combine(directory, "spec.json");
        await File.WriteAllBytesAsync(specPath, JsonSerializer.SerializeToUtf8Bytes(spec, ImageSetJsonContext.Default.ImageSetSpec), ct);
        var run = await ChildProcess.RunAsync(Python, [script, specPath, directory], directory, ct: ct);
        if (run.ExitCode != 0)
            throw new InvalidOperationException($"rendering the {spec.Renderer} image set failed (exit {run.ExitCode}): {run.ErrorTail}");
        return ImageSet.Read(directory);
    }

    private static void RequireTool(string renderer, string package)
    {
        if (!File.Exists(Python)) throw new InvalidOperationException($"{Python} is missing (apt-get install python3-astropy {package})");
        var tool = renderer switch { ImageSetRenderers.Fitsh => "firandom", ImageSetRenderers.Gnuastro => "astmkprof", _ => null };
        if (tool is not null && ChildProcess.Find(tool) is null)
            throw new InvalidOperationException($"{tool} is not installed (apt-get install {package})");
        if (renderer == ImageSetRenderers.Photutils && !Directory.Exists("/usr/lib/python3/dist-packages/photutils"))
            throw new InvalidOperationException($"photutils is not installed (apt-get install {package})");
    }
}
