using System.Runtime.InteropServices;

namespace Rapid.Pipeline.Subtraction;

/// <summary>Grows a mask of saturated pixels (row-major, 0-based) by a square radius in pixels.</summary>
public static class SaturationMask
{
    /// <summary>Null when <paramref name="saturated"/> is null; else true within <paramref name="radius"/> (Chebyshev distance) of a saturated pixel.</summary>
    public static bool[]? Grow(bool[]? saturated, int width, int height, int radius)
    {
        if (saturated is null) return null;
        if (saturated.Length != (long)width * height) throw new ArgumentException($"the saturation mask has {saturated.Length} values, not {width} x {height}");
        if (radius <= 0) return (bool[])saturated.Clone();
        var marked = MemoryMarshal.Cast<bool, byte>(saturated.AsSpan());
        var side = 2L * radius + 1;
        // A sparse mask (cosmic rays, a few saturated stars) is painted box by box, skipping the empty stretches at
        // vectorised speed: far fewer steps than two passes over every pixel.
        if (marked.Count((byte)1) * side * side < saturated.Length / 8) return Painted(marked, width, height, radius);
        // Separable dilation: rows then columns, each with a running count over the window.
        var rows = new bool[saturated.Length];
        Parallel.For(0, height, y =>
        {
            var count = 0;
            var row = y * width;
            for (var x = 0; x < Math.Min(radius, width); x++) if (saturated[row + x]) count++;
            for (var x = 0; x < width; x++)
            {
                if (x + radius < width && saturated[row + x + radius]) count++;
                if (x - radius - 1 >= 0 && saturated[row + x - radius - 1]) count--;
                rows[row + x] = count > 0;
            }
        });
        // Columns: a running count per column, advanced row by row so memory is read in order.
        var result = new bool[saturated.Length];
        var bands = Math.Max(1, Math.Min(Environment.ProcessorCount * 4, width / 64));
        Parallel.For(0, bands, band =>
        {
            var (x0, x1) = (band * width / bands, (band + 1) * width / bands);
            var count = new int[x1 - x0];
            for (var y = 0; y < Math.Min(radius, height); y++)
                for (var x = x0; x < x1; x++) if (rows[y * width + x]) count[x - x0]++;
            for (var y = 0; y < height; y++)
            {
                var ahead = y + radius < height ? (y + radius) * width : -1;
                var behind = y - radius - 1 >= 0 ? (y - radius - 1) * width : -1;
                var row = y * width;
                for (var x = x0; x < x1; x++)
                {
                    if (ahead >= 0 && rows[ahead + x]) count[x - x0]++;
                    if (behind >= 0 && rows[behind + x]) count[x - x0]--;
                    result[row + x] = count[x - x0] > 0;
                }
            }
        });
        return result;
    }

    /// <summary>The same dilation, as a (2 radius + 1)^2 box painted around each marked pixel.</summary>
    private static bool[] Painted(ReadOnlySpan<byte> marked, int width, int height, int radius)
    {
        var result = new bool[marked.Length];
        var offset = 0;
        int next;
        while ((next = marked[offset..].IndexOf((byte)1)) >= 0)
        {
            var i = offset + next;
            var (x, y) = (i % width, i / width);
            var (x0, x1) = (Math.Max(0, x - radius), Math.Min(width - 1, x + radius));
            for (var j = Math.Max(0, y - radius); j <= Math.Min(height - 1, y + radius); j++)
                result.AsSpan(j * width + x0, x1 - x0 + 1).Fill(true);
            offset = i + 1;
        }
        return result;
    }
}
