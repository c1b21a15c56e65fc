using System.CommandLine;
using Rapid.Cli.Embedded;
using Rapid.Core.Storage;
using Rapid.Functions.Ingest;

namespace Rapid.Cli.Commands;

/// <summary>
/// <c>rapid ingest FILE|DIR...</c>: registers real L2 files as exposures and l2files from their headers
/// (<see cref="L2FileIngest"/>), one transaction per file. A file that cannot be registered gets one line on stderr
/// naming the file and the keyword (or value) at fault and is skipped; the others are registered. Exit 0 when every
/// file is registered (or already was), <see cref="CommandErrors.BadInput"/> when any was refused, 3/4 when the database
/// or the machine failed (the files registered before that stay registered, each whole).
/// </summary>
internal static class IngestCommand
{
    public static Command Create()
    {
        var paths = new Argument<string[]>("paths") { Description = "L2 FITS files, or directories to take every *.fits[.gz] file from (recursively)", Arity = ArgumentArity.OneOrMore };
        var db = CommonOptions.Database();
        var home = CommonOptions.Home();
        var verbose = CommonOptions.Verbose();
        var command = new Command("ingest", "Register L2 files (exposures and l2files) from their FITS headers: observation time, filter, " +
                                            "exposure time, SCA, WCS and footprint, checksum; idempotent; exit 2 when a file was refused")
        {
            paths, db, home, verbose,
        };
        command.SetAction((parse, ct) => CommandErrors.Guard(parse.GetValue(verbose), async () =>
        {
            var files = L2FileIngest.Expand(parse.GetValue(paths)!);
            if (files.Count == 0) throw new ArgumentException($"no FITS files ({string.Join(", ", L2FileIngest.Extensions)}) in {string.Join(" ", parse.GetValue(paths)!)}");
            var rapidHome = new RapidHome(parse.GetValue(home)!);
            await using var dataSource = await rapidHome.OpenDatabaseAsync(parse.GetValue(db), line => Console.Error.WriteLine($"rapid: {line}"), ct);
            var ingest = new L2FileIngest(rapidHome.OpenStore(), Buckets.Default, dataSource);
            var (added, known, refused) = (0, 0, 0);
            foreach (var file in files)
            {
                var outcome = await ingest.IngestAsync(file, ct);
                if (outcome.Problem is { } problem)
                {
                    refused++;
                    Console.Error.WriteLine($"rapid: ingest: {problem}");
                }
                else if (outcome.Registered!.Inserted) added++;
                else known++;
            }
            Console.WriteLine($"Ingested {files.Count} file{(files.Count == 1 ? "" : "s")}: {added} registered, {known} already registered, {refused} refused.");
            return refused == 0 ? 0 : CommandErrors.BadInput;
        }));
        return command;
    }
}
