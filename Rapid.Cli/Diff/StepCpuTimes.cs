using System.Globalization;
using System.Text.RegularExpressions;

namespace Rapid.Cli.Diff;

/// <summary>
/// CPU seconds per step, summed from the job log's "step NAME: done in W s (cpu C s)" lines: the manifest has the wall
/// times only, and on a machine shared with other work the CPU time is what says where the job's own effort went.
/// </summary>
public static partial class StepCpuTimes
{
    public static IReadOnlyDictionary<string, double> FromLog(string log)
    {
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (Match m in StepDone().Matches(log))
        {
            var name = m.Groups["name"].Value;
            result[name] = Math.Round(result.GetValueOrDefault(name) + double.Parse(m.Groups["cpu"].Value, CultureInfo.InvariantCulture), 3);
        }
        return result;
    }

    [GeneratedRegex(@" step (?<name>\S+): done in [0-9.]+ s \(cpu (?<cpu>[0-9.]+) s\)")]
    private static partial Regex StepDone();
}
