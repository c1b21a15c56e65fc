using System.CommandLine;
using Rapid.Cli.Bench;
using Rapid.Cli.Embedded;
using Rapid.Cli.Output;

namespace Rapid.Cli.Commands;

/// <summary><c>rapid bench science</c>: wall time per step and peak memory of the science job at full size.</summary>
internal static class ScienceBenchCommand
{
    public static Command Create()
    {
        var size = new Option<int>("--size") { Description = "Image size in pixels (square; Roman SCAs are 4088)", DefaultValueFactory = _ => 4088 };
        var frames = new Option<int>("--frames") { Description = "Images co-added into the reference of case (b)", DefaultValueFactory = _ => 9 };
        var seed = new Option<int>("--seed") { Description = "Simulator seed", DefaultValueFactory = _ => 1 };
        var transients = new Option<int>("--transients")
        {
            Description = "Transients simulated in the field, for the quality figures (they explode after the reference epochs)",
            DefaultValueFactory = _ => ScienceBenchmarkOptions.DefaultTransients,
        };
        var noYardsticks = new Option<bool>("--no-yardsticks") { Description = "Do not run SWarp and SExtractor beside it" };
        var tileGrid = new Option<int?>("--tile-grid")
        {
            Description = "Co-add (b) onto the N x N sky tile grid as the nightly jobs do (default: the science grid, as rapid diff does); (a) then resamples that reference",
        };
        var home = CommonOptions.Home();
        var verbose = CommonOptions.Verbose();
        var command = new Command("science",
            "Time the science job (rapid diff in a child process) on simulated images: (a) against an existing reference, " +
            "(b) with a reference co-added from --frames images; per step, whole process and peak memory; SWarp and SExtractor " +
            "on the same images as a yardstick; quality figures of each difference against the simulator's truth. Inputs are simulated once and cached under --home (bench/science/).")
        {
            size, frames, seed, transients, noYardsticks, tileGrid, home, verbose,
        };
        command.SetAction((parse, ct) => CommandErrors.Guard(parse.GetValue(verbose), async () =>
        {
            var (n, f, s, t) = (parse.GetValue(size), parse.GetValue(frames), parse.GetValue(seed), parse.GetValue(transients));
            if (t < 0) throw new ArgumentException($"bench: --transients {t}: must not be negative");
            var cache = Path.Combine(new RapidHome(parse.GetValue(home)!).Path, "bench", "science", ScienceBenchmarkOptions.CacheKey(n, f, s, t));
            Directory.CreateDirectory(cache);
            var options = new ScienceBenchmarkOptions(n, f, s, cache, !parse.GetValue(noYardsticks))
            {
                TileGridPixels = parse.GetValue(tileGrid),
                Transients = t,
            };
            var report = await new ScienceBenchmark(line => Console.Error.WriteLine($"rapid: {line}")).RunAsync(options, ct);
            ScienceBenchPrinter.Print(ConsoleOutput.Create(), report);
            return 0;
        }));
        return command;
    }
}
