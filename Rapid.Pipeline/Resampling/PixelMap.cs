using Rapid.Pipeline.Wcs;

namespace Rapid.Pipeline.Resampling;

/// <summary>
/// Where each destination pixel falls in the source image (0-based array coordinates). As in SWarp, the exact
/// WCS mapping (destination pixel -> sky -> source pixel) is computed only on a coarse grid of nodes every
/// <see cref="Step"/> pixels and interpolated bilinearly in between; cells touching a node without a position
/// (beyond the tangent plane) are mapped exactly pixel by pixel.
/// </summary>
internal sealed class PixelMap
{
    public const int DefaultStep = 16;
    private readonly int[] _nodeX, _nodeY;
    private readonly double[] _srcX, _srcY; // per node, row-major over (nodeY, nodeX)
    private readonly TanSipWcs _srcWcs, _dstWcs;

    public PixelMap(int dstWidth, int dstHeight, TanSipWcs dstWcs, TanSipWcs srcWcs, int step = DefaultStep)
    {
        Step = step;
        _srcWcs = srcWcs;
        _dstWcs = dstWcs;
        _nodeX = Nodes(dstWidth, step);
        _nodeY = Nodes(dstHeight, step);
        _srcX = new double[_nodeX.Length * _nodeY.Length];
        _srcY = new double[_srcX.Length];
        Parallel.For(0, _nodeY.Length, j =>
        {
            for (var i = 0; i < _nodeX.Length; i++)
                (_srcX[j * _nodeX.Length + i], _srcY[j * _nodeX.Length + i]) = Exact(_nodeX[i], _nodeY[j]);
        });
    }

    public int Step { get; }

    /// <summary>The exact source position (0-based) of the 0-based destination pixel (x, y).</summary>
    public (double X, double Y) Exact(double x, double y)
    {
        var (ra, dec) = _dstWcs.PixelToSky(x + 1, y + 1);
        var (sx, sy) = _srcWcs.SkyToPixel(ra, dec);
        return (sx - 1, sy - 1);
    }

    /// <summary>Source positions (0-based) of the destination pixels (0..width-1, y), written to xs and ys.</summary>
    public void MapRow(int y, Span<double> xs, Span<double> ys)
    {
        var j = Math.Min(y / Step, _nodeY.Length - 2);
        if (_nodeY.Length == 1) j = 0;
        var j1 = Math.Min(j + 1, _nodeY.Length - 1);
        var ty = j1 == j ? 0.0 : (double)(y - _nodeY[j]) / (_nodeY[j1] - _nodeY[j]);
        var stride = _nodeX.Length;
        for (var i = 0; i < Math.Max(1, _nodeX.Length - 1); i++)
        {
            var i1 = Math.Min(i + 1, _nodeX.Length - 1);
            var x0 = _nodeX[i];
            var xEnd = i == _nodeX.Length - 2 || _nodeX.Length == 1 ? _nodeX[i1] : _nodeX[i1] - 1;
            double ax = _srcX[j * stride + i], bx = _srcX[j * stride + i1], cx = _srcX[j1 * stride + i], dx = _srcX[j1 * stride + i1];
            double ay = _srcY[j * stride + i], by = _srcY[j * stride + i1], cy = _srcY[j1 * stride + i], dy = _srcY[j1 * stride + i1];
            var exact = double.IsNaN(ax + bx + cx + dx + ay + by + cy + dy);
            // Bilinear in the cell: interpolate the left and right edges at this row once, then along x by one multiply-add.
            double leftX = (1 - ty) * ax + ty * cx, rightX = (1 - ty) * bx + ty * dx;
            double leftY = (1 - ty) * ay + ty * cy, rightY = (1 - ty) * by + ty * dy;
            var perPixel = i1 == i ? 0.0 : 1.0 / (_nodeX[i1] - x0);
            for (var x = x0; x <= xEnd; x++)
            {
                if (exact)
                {
                    (xs[x], ys[x]) = Exact(x, y);
                    continue;
                }
                var tx = (x - x0) * perPixel;
                xs[x] = leftX + tx * (rightX - leftX);
                ys[x] = leftY + tx * (rightY - leftY);
            }
        }
    }

    /// <summary>
    /// True when every node maps onto the destination pixel plus one integer offset (dx, dy) to within
    /// <paramref name="tolerance"/> pixels: the grids are the same up to a whole-pixel shift (a reference co-added on
    /// the science grid, resampled back onto it), so Lanczos weights are 1 at the tap and 0 elsewhere.
    /// </summary>
    public bool IsIntegerShift(out int dx, out int dy, double tolerance = 1e-6)
    {
        dx = dy = 0;
        if (double.IsNaN(_srcX[0]) || double.IsNaN(_srcY[0])) return false;
        var (sx, sy) = (Math.Round(_srcX[0] - _nodeX[0]), Math.Round(_srcY[0] - _nodeY[0]));
        if (Math.Abs(sx) > int.MaxValue / 2 || Math.Abs(sy) > int.MaxValue / 2) return false;
        for (var j = 0; j < _nodeY.Length; j++)
            for (var i = 0; i < _nodeX.Length; i++)
            {
                var n = j * _nodeX.Length + i;
                // NaN fails both comparisons, so a node off the projection is no shift.
                if (!(Math.Abs(_srcX[n] - _nodeX[i] - sx) <= tolerance) || !(Math.Abs(_srcY[n] - _nodeY[j] - sy) <= tolerance)) return false;
            }
        (dx, dy) = ((int)sx, (int)sy);
        return true;
    }

    /// <summary>0, step, 2 step, ... and always the last pixel.</summary>
    private static int[] Nodes(int length, int step)
    {
        var nodes = new List<int>();
        for (var p = 0; p < length - 1; p += step) nodes.Add(p);
        nodes.Add(length - 1);
        return [.. nodes];
    }
}
