using System.Runtime.InteropServices;

namespace Rapid.Pipeline.Fft;

/// <summary>
/// Creates and caches FFTW plans per (precision, direction, size) for the life of the process. The FFTW planner is not
/// thread-safe, so all planning happens under one lock; executing a plan with new arrays (fftw_execute_dft_*) is
/// thread-safe, so one cached plan serves every caller. All arrays come from fftw(f)_malloc, which gives them the
/// alignment the plans were made for.
/// </summary>
internal static unsafe class FftwPlans
{
    private static readonly object PlannerLock = new();
    private static readonly Dictionary<(bool Double, bool Forward, int Width, int Height), IntPtr> Cache = [];
    private static bool _singleReady, _doubleReady;

    public static IntPtr Get(bool isDouble, bool forward, int width, int height)
    {
        lock (PlannerLock)
        {
            if (Cache.TryGetValue((isDouble, forward, width, height), out var plan)) return plan;
            if (isDouble) EnsureDouble(); else EnsureSingle();
            plan = isDouble ? PlanDouble(forward, width, height) : PlanSingle(forward, width, height);
            if (plan == IntPtr.Zero) throw new InvalidOperationException($"FFTW could not plan a {width} x {height} {(forward ? "forward" : "inverse")} transform");
            Cache[(isDouble, forward, width, height)] = plan;
            return plan;
        }
    }

    private static readonly Dictionary<(bool Rows, int Width, int Height, int Count), IntPtr> CompactCache = [];

    /// <summary>
    /// Single precision, for <see cref="Fft2D.ForwardCompact"/>: rows = true gives `count` 1-D r2c transforms of length
    /// width on consecutive rows (any alignment); rows = false the in-place c2c forward transforms of length height down
    /// every column of a width x height r2c spectrum (count unused).
    /// </summary>
    public static IntPtr GetCompact(bool rows, int width, int height, int count)
    {
        lock (PlannerLock)
        {
            if (CompactCache.TryGetValue((rows, width, height, count), out var plan)) return plan;
            EnsureSingle();
            var sw = width / 2 + 1;
            var real = (float*)FftwNative.fftwf_malloc((nuint)((long)width * height * sizeof(float)));
            var complex = (float*)FftwNative.fftwf_malloc((nuint)((long)height * sw * 2 * sizeof(float)));
            try
            {
                if (rows)
                {
                    var n = width;
                    plan = FftwNative.fftwf_plan_many_dft_r2c(1, &n, count, real, null, 1, width, complex, null, 1, sw, FftwNative.Estimate | FftwNative.Unaligned);
                }
                else
                {
                    var n = height;
                    plan = FftwNative.fftwf_plan_many_dft(1, &n, sw, complex, null, sw, 1, complex, null, sw, 1, FftwNative.ForwardSign, FftwNative.Estimate);
                }
            }
            finally
            {
                FftwNative.fftwf_free(real);
                FftwNative.fftwf_free(complex);
            }
            if (plan == IntPtr.Zero) throw new InvalidOperationException($"FFTW could not plan the {(rows ? "row" : "column")} transforms of a {width} x {height} compact transform");
            CompactCache[(rows, width, height, count)] = plan;
            return plan;
        }
    }

    /// <summary>Checks that a native library can be loaded, else a one-line error naming the Debian package.</summary>
    public static void RequireLibrary(string library, string package)
    {
        if (NativeLibrary.TryLoad(library, typeof(FftwPlans).Assembly, null, out var handle))
        {
            NativeLibrary.Free(handle);
            return;
        }
        throw new FftwUnavailableException($"FFTW library {library} could not be loaded: install Debian package {package}");
    }

    private static void EnsureSingle()
    {
        if (_singleReady) return;
        RequireLibrary(FftwNative.SingleLibrary, FftwNative.SinglePackage);
        // Threads are an optimisation; without the threads library the transforms still run on one core.
        try
        {
            if (FftwNative.fftwf_init_threads() != 0) FftwNative.fftwf_plan_with_nthreads(Environment.ProcessorCount);
        }
        catch (DllNotFoundException) { }
        catch (EntryPointNotFoundException) { }
        _singleReady = true;
    }

    private static void EnsureDouble()
    {
        if (_doubleReady) return;
        RequireLibrary(FftwNative.DoubleLibrary, FftwNative.DoublePackage);
        try
        {
            if (FftwNative.fftw_init_threads() != 0) FftwNative.fftw_plan_with_nthreads(Environment.ProcessorCount);
        }
        catch (DllNotFoundException) { }
        catch (EntryPointNotFoundException) { }
        _doubleReady = true;
    }

    private static IntPtr PlanSingle(bool forward, int width, int height)
    {
        // FFTW's n0 is the slow (row) axis: n0 = height, n1 = width for row-major images.
        var real = (float*)FftwNative.fftwf_malloc((nuint)((long)width * height * sizeof(float)));
        var complex = (float*)FftwNative.fftwf_malloc((nuint)((long)height * (width / 2 + 1) * 2 * sizeof(float)));
        try
        {
            return forward
                ? FftwNative.fftwf_plan_dft_r2c_2d(height, width, real, complex, FftwNative.Estimate)
                : FftwNative.fftwf_plan_dft_c2r_2d(height, width, complex, real, FftwNative.Estimate);
        }
        finally
        {
            FftwNative.fftwf_free(real);
            FftwNative.fftwf_free(complex);
        }
    }

    private static IntPtr PlanDouble(bool forward, int width, int height)
    {
        var real = (double*)FftwNative.fftw_malloc((nuint)((long)width * height * sizeof(double)));
        var complex = (double*)FftwNative.fftw_malloc((nuint)((long)height * (width / 2 + 1) * 2 * sizeof(double)));
        try
        {
            return forward
                ? FftwNative.fftw_plan_dft_r2c_2d(height, width, real, complex, FftwNative.Estimate)
                : FftwNative.fftw_plan_dft_c2r_2d(height, width, complex, real, FftwNative.Estimate);
        }
        finally
        {
            FftwNative.fftw_free(real);
            FftwNative.fftw_free(complex);
        }
    }
}
