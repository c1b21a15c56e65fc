using System.Globalization;

namespace Rapid.Cli.Engine;

/// <summary>
/// The children's work directories under a root, each named after the process that made it (its id and
/// start time, which together name one process for the machine's uptime). A run removes its children's
/// directories as they end; when a run itself is killed, the next run on the same root removes what it left
/// (<see cref="RemoveAbandoned"/>), so scratch files of killed runs do not pile up.
/// </summary>
public static class WorkDirectories
{
    private static readonly Lazy<string> Owner = new(() => OwnerTag(Environment.ProcessId) ?? $"{Environment.ProcessId}.0");

    /// <summary>A new directory under <paramref name="root"/> for one child of this process.</summary>
    public static string Create(string root, long jid, int index)
    {
        var path = Path.Combine(root, $"{Owner.Value}-jid{jid}-{index}-{Guid.NewGuid().ToString("N")[..8]}");
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>Removes the directories under <paramref name="root"/> whose process is gone; returns how many.</summary>
    public static int RemoveAbandoned(string root)
    {
        // Without /proc no owner can be told alive: remove nothing.
        if (!OperatingSystem.IsLinux() || !Directory.Exists(root)) return 0;
        var removed = 0;
        foreach (var dir in Directory.EnumerateDirectories(root))
        {
            var owner = Path.GetFileName(dir).Split('-')[0];
            var pid = owner.Split('.')[0];
            if (!int.TryParse(pid, NumberStyles.None, CultureInfo.InvariantCulture, out var id) || OwnerTag(id) == owner) continue;
            if (Remove(dir)) removed++;
        }
        return removed;
    }

    /// <summary>Removes a directory and what is in it; false when it could not.</summary>
    public static bool Remove(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
            return true;
        }
        catch (DirectoryNotFoundException) { return true; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }

    /// <summary>"pid.starttime" of a live process (starttime: field 22 of /proc/pid/stat, clock ticks since boot), null when it is gone.</summary>
    private static string? OwnerTag(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return $"{pid}.{fields[19]}";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or IndexOutOfRangeException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }
}
