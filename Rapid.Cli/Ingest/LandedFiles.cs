using Rapid.Functions.Ingest;

namespace Rapid.Cli.Ingest;

/// <summary>
/// The FITS files of a watched directory that have finished landing. A file counts as landed when its size and
/// modification time have not changed for <see cref="Settle"/> (a copy, a download or a writer still at work keeps
/// changing them); files under a temporary name (dot files, <c>.part</c>, <c>.tmp</c>: the rename-into-place convention)
/// are not FITS names and are never taken (<see cref="L2FileIngest.IsFitsName"/>). Ingest itself refuses a file shorter
/// than its headers declare, so one whose writer stalled longer than the settle time is refused, not half-registered,
/// and is taken again once it changes. Each version of a file (path, size, time) is handed out once.
/// </summary>
public sealed class LandedFiles(string directory, TimeSpan settle, TimeProvider? clock = null)
{
    private readonly TimeProvider _clock = clock ?? TimeProvider.System;
    private readonly Dictionary<string, (long Size, DateTime Modified, DateTimeOffset Since)> _changing = new(StringComparer.Ordinal);
    private readonly HashSet<(string Path, long Size, DateTime Modified)> _handled = [];

    public string Directory { get; } = Path.GetFullPath(directory);
    public TimeSpan Settle { get; } = settle;

    /// <summary>The files that have landed since the last call (name order), each version once.</summary>
    public IReadOnlyList<string> Poll()
    {
        var now = _clock.GetUtcNow();
        var landed = new List<string>();
        var present = new HashSet<string>(StringComparer.Ordinal);
        foreach (var path in System.IO.Directory.EnumerateFiles(Directory, "*", SearchOption.AllDirectories).Where(L2FileIngest.IsFitsName).Order(StringComparer.Ordinal))
        {
            FileInfo info;
            try { info = new FileInfo(path); if (!info.Exists) continue; }
            catch (IOException) { continue; } // renamed or removed while listing
            present.Add(path);
            var state = (info.Length, info.LastWriteTimeUtc);
            if (_handled.Contains((path, state.Length, state.LastWriteTimeUtc))) continue;
            if (!_changing.TryGetValue(path, out var seen) || seen.Size != state.Length || seen.Modified != state.LastWriteTimeUtc)
            {
                _changing[path] = (state.Length, state.LastWriteTimeUtc, now);
                if (Settle > TimeSpan.Zero) continue;
                seen = _changing[path];
            }
            if (now - seen.Since < Settle) continue;
            landed.Add(path);
        }
        foreach (var gone in _changing.Keys.Where(p => !present.Contains(p)).ToList()) _changing.Remove(gone);
        return landed;
    }

    /// <summary>This version of the file is dealt with (registered, or refused for good): it is not handed out again unless it changes.</summary>
    public void Handled(string path)
    {
        if (_changing.Remove(path, out var seen)) _handled.Add((path, seen.Size, seen.Modified));
    }
}
