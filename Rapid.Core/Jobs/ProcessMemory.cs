using System.Globalization;

namespace Rapid.Core.Jobs;

/// <summary>Peak resident memory of a process: VmHWM of /proc/{pid}/status (Linux); 0 where there is none.</summary>
public static class ProcessMemory
{
    /// <summary>This process's peak.</summary>
    public static long PeakResidentBytes() => PeakResidentBytes("self");

    /// <summary>The peak of process <paramref name="pid"/> (a number, or "self").</summary>
    public static long PeakResidentBytes(string pid)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (!line.StartsWith("VmHWM:", StringComparison.Ordinal)) continue;
                var kb = line["VmHWM:".Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
                return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException) { }
        return 0;
    }
}
