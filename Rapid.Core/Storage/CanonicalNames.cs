namespace Rapid.Core.Storage;

/// <summary>Names registered products get in post-processing (ppid 17), carrying their database ids.</summary>
public static class CanonicalNames
{
    public static string ReferenceImage(long field, int fid, int ppid, int version, long rfid, string suffix = "refimage") =>
        $"rapid_field{field}_fid{fid}_ppid{ppid}_v{version}_rfid{rfid}_{suffix}.fits";

    public static string DifferenceImage(long field, int fid, int sca, long rid, int ppid, int version, long pid, string suffix = "diffimage") =>
        $"rapid_field{field}_fid{fid}_sca{sca}_rid{rid}_ppid{ppid}_v{version}_pid{pid}_{suffix}.fits";
}
