using System.Globalization;
using Rapid.Core.Jobs;
using Rapid.Core.Pipelines;
using Rapid.Functions.Record;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Rapid.Cli.Output;

/// <summary>Prints the operations record: a file's provenance tree (<c>rapid provenance</c>), runs (<c>rapid runs</c>), QC matches (<c>rapid qc</c>).</summary>
public static class RecordPrinters
{
    /// <summary>
    /// The file, the attempt that made it and, below, the files it was derived from, down to the L2 images. A file or an
    /// attempt met again (a reference's coverage and uncertainty maps share its inputs and its job) is named, not repeated.
    /// </summary>
    public static void PrintProvenance(ProvenanceNode root, IAnsiConsole? console = null)
    {
        console ??= ConsoleOutput.Create();
        var (files, attempts) = (new HashSet<long>(), new HashSet<(long, int)>());
        var tree = new Tree(Node(root, files, attempts)) { Style = Style.Plain };
        Add(tree, root);
        console.Write(tree);

        void Add(IHasTreeNodes parent, ProvenanceNode node)
        {
            foreach (var p in node.DerivedFrom)
            {
                var repeated = files.Contains(p.File.FileId);
                var child = parent.AddNode(Node(p, files, attempts));
                if (!repeated) Add(child, p);
            }
        }
    }

    private static IRenderable Node(ProvenanceNode n, HashSet<long> files, HashSet<(long, int)> attempts)
    {
        var f = n.File;
        var header = $"[bold]{Markup.Escape(f.Role ?? f.Kind)}[/] {Markup.Escape(f.Uri)}";
        if (!files.Add(f.FileId)) return new Markup(header + (n.DerivedFrom.Count > 0 ? " [dim](derived from what is shown above)[/]" : ""));
        var ids = string.Join(" ", new[]
        {
            f.Pid is { } pid ? $"pid {pid}" : null, f.Rfid is { } rfid ? $"rfid {rfid}" : null, f.Rid is { } rid ? $"rid {rid}" : null,
        }.Where(x => x is not null));
        var facts = new List<string>();
        if (ids.Length > 0) facts.Add(ids);
        if (f.SizeBytes is { } size) facts.Add(Bytes(size));
        if (f.Sha256 is { } sha) facts.Add($"sha256 {sha[..12]}…");
        else if (f.Md5 is { } md5) facts.Add($"md5 {md5}");
        facts.Add(f.Status + (f.StatusReason is { } why && f.Status != "kept" ? $" ({why})" : ""));
        var lines = new List<string> { header, Markup.Escape(string.Join(" · ", facts)) };
        if (n.MadeBy is { } a)
        {
            if (!attempts.Add((a.Jid, a.Attempt)))
                lines.Add(Markup.Escape($"made by job {a.Jid} attempt {a.Attempt} (above)"));
            else
            {
                var run = a.RunId is { } r ? $" · run {r}" + (a.Tag is { } tag ? $" tag {tag}" : "") : "";
                lines.Add(Markup.Escape($"made by job {a.Jid} attempt {a.Attempt} ({PipelineIds.Describe(a.Ppid)}, procdate {a.ProcDate:yyyyMMdd}{run})"
                    + $": exit {Show(a.ExitCode)}, {Time(a.Started)} → {Time(a.Ended)} UTC, {Seconds(a.WallSeconds)} wall, {Seconds(a.CpuSeconds)} CPU"));
                lines.Add(Markup.Escape($"host {a.Host ?? "-"} · software {a.Software ?? "-"}"
                    + $" · config sha256 {(a.ConfigSha256 is { } cs ? cs[..12] + "…" : "-")}" + (a.BatchJobId is { } b ? $" · Batch job {b}" : "")));
            }
        }
        return new Markup(string.Join('\n', lines));
    }

    public static void PrintRuns(IReadOnlyList<RunRow> runs, IAnsiConsole? console = null)
    {
        console ??= ConsoleOutput.Create();
        if (runs.Count == 0)
        {
            console.WriteLine("No runs recorded.");
            return;
        }
        var table = Compact(new Table(), "run", "tag", "procdate", "by", "started (UTC)", "took", "status", "jobs", "tries", "resub", "failed", "files");
        foreach (var r in runs)
            table.AddRow(r.RunId.ToString(CultureInfo.InvariantCulture), Markup.Escape(r.Tag ?? "-"), r.ProcDate.ToString("yyyyMMdd", CultureInfo.InvariantCulture),
                r.Executor, Time(r.Started), r.Ended is { } e ? Duration(e - r.Started) : "-", Markup.Escape(r.Status), Count(r.Jobs), Count(r.Attempts),
                Count(r.Resubmitted), Count(r.Failed), $"{r.Files} ({Bytes(r.Bytes)})");
        table.Caption("tries: attempts of its jobs; resub: resubmissions by the retry policy; failed: jobs whose last attempt ended in error");
        console.Write(table);
    }

    /// <param name="limit">Matches listed; the summary by pattern counts them all.</param>
    public static void PrintQc(ProcessingDate procDate, IReadOnlyList<QcRow> matches, int limit, IAnsiConsole? console = null)
    {
        console ??= ConsoleOutput.Create();
        if (matches.Count == 0)
        {
            console.WriteLine($"No QC pattern matched a log of processing date {procDate}.");
            return;
        }
        var summary = Compact(new Table().Title($"QC matches, processing date {procDate}"), "severity", "pattern", "lines", "jobs");
        foreach (var g in matches.GroupBy(m => (m.Severity, m.Pattern)))
            summary.AddRow(g.Key.Severity, Markup.Escape(g.Key.Pattern), Count(g.Count()), Count(g.Select(m => m.Jid).Distinct().Count()));
        console.Write(summary);

        var list = Compact(new Table(), "sev", "pattern", "job", "product", "line", "text");
        foreach (var m in matches.Take(limit))
            list.AddRow(m.Severity[..4], Markup.Escape(m.Pattern), $"{m.Jid}/{m.Attempt}", Product(m), m.Line.ToString(CultureInfo.InvariantCulture),
                Markup.Escape(LogText(m.Text)));
        list.Caption(matches.Count > limit
            ? $"{limit} of {matches.Count} matches shown (--limit); job: jid/attempt; the logs: rapid logs JID"
            : "job: jid/attempt");
        console.Write(list);
    }

    private static string Product(QcRow m) => m.Pid is { } pid ? $"pid {pid}" : m.Rfid is { } rfid ? $"rfid {rfid}" : m.Rid is { } rid ? $"rid {rid}" : "-";

    /// <summary>A log line without its leading timestamp (the time is in the attempt's record).</summary>
    private static string LogText(string line) =>
        line.Length > 25 && line[4] == '-' && line[10] == 'T' && line[24] == ' ' ? line[25..] : line;

    private static Table Compact(Table table, params string[] columns)
    {
        table.Border(TableBorder.Simple);
        foreach (var c in columns) table.AddColumn(new TableColumn(c).PadLeft(0).PadRight(1));
        return table;
    }

    private static string Count(int n) => n.ToString(CultureInfo.InvariantCulture);

    private static string Show(int? n) => n?.ToString(CultureInfo.InvariantCulture) ?? "-";

    private static string Time(DateTime? t) => t is { } v ? v.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) : "-";

    private static string Seconds(double? s) => s is { } v ? $"{v.ToString("0.0", CultureInfo.InvariantCulture)} s" : "-";

    private static string Duration(TimeSpan d) => d.TotalSeconds < 90 ? $"{d.TotalSeconds:0}s" : d.TotalMinutes < 90 ? $"{d.TotalMinutes:0}m" : $"{d.TotalHours:0.0}h";

    private static string Bytes(long b) => b switch
    {
        < 1024 => $"{b} B",
        < 1 << 20 => $"{b / 1024.0:0.0} KB",
        < 1 << 30 => $"{b / 1048576.0:0.0} MB",
        _ => $"{b / 1073741824.0:0.00} GB",
    };
}
