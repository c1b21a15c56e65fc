using System.CommandLine;
using Rapid.Cli.Engine;
using Rapid.Core.Jobs;
using Rapid.Functions.Api;

namespace Rapid.Cli.Commands;

/// <summary>
/// <c>rapid submit TYPE name=value...</c>: one job of a declared type (<see cref="JobTypes"/>, the same declarations and
/// validation as <c>rapid serve</c>'s POST), queued and run now in this process. A missing, unknown or malformed input is
/// one line naming it and exit 2, before anything is written; exit 0 when the job succeeded, 5 when it ended in error.
/// </summary>
internal static class SubmitCommand
{
    public static Command Create()
    {
        var type = new Argument<string>("type") { Description = $"Job type: {string.Join(", ", JobTypes.All.Select(t => t.Name))}" };
        var inputs = new Argument<string[]>("inputs") { Description = "Inputs as name=value", Arity = ArgumentArity.ZeroOrMore };
        var tag = new Option<string?>("--tag") { Description = "A processing tag recorded with the submission" };
        var options = new WorkflowOptions();
        var command = new Command("submit", "Submit one job and run it now. " + string.Join(" ", JobTypes.All.Select(Describe)))
        {
            type, inputs, tag,
        };
        options.AddTo(command);
        command.SetAction((parse, ct) => CommandErrors.Guard(parse.GetValue(options.Verbose), async () =>
        {
            var given = new Dictionary<string, string?>(StringComparer.Ordinal);
            foreach (var pair in parse.GetValue(inputs) ?? [])
            {
                var eq = pair.IndexOf('=');
                if (eq < 1) throw new JobInputException(pair, "is not name=value");
                given[pair[..eq]] = pair[(eq + 1)..];
            }
            // Refused before the home or its database are opened.
            var jobType = Submissions.Check(parse.GetValue(type), given).Type;
            await using var workflow = await options.OpenAsync(parse, force: false, ct, createHome: false);
            var submissions = new Submissions(workflow.Value.Database);
            var id = await submissions.SubmitAsync(jobType.Name, given, parse.GetValue(tag), ct);
            await new SubmissionRunner(workflow.Value, submissions).RunNextAsync(ct, id);
            var row = (await submissions.GetAsync(id, ct))!;
            Console.WriteLine($"Submission {id} ({row.JobType}) {row.State}" + (row.Jid is { } jid ? $": job {jid}" : "") +
                              (row.ExitCode is { } exit ? $", exit {exit}" : "") + (row.Reason is { } reason ? $": {reason}" : "") +
                              (row.OutDir is { } dir ? $"; products in {dir}" : ""));
            return row.State == "succeeded" ? 0 : CommandErrors.JobsFailed;
        }));
        return command;
    }

    private static string Describe(JobType type) =>
        $"{type.Name}: {string.Join(" ", type.Inputs.Select(i => i.Required ? $"{i.Name}=..." : $"[{i.Name}=...]"))}.";
}
