using System.Runtime.InteropServices;

namespace Rapid.Pipeline.Fft;

/// <summary>
/// P/Invoke declarations for FFTW 3 (Frigo &amp; Johnson 2005, Proc. IEEE 93, 216), single precision from
/// libfftw3f.so.3 and double precision from libfftw3.so.3 (Debian packages libfftw3-single3 / libfftw3-double3),
/// with the threaded planners from libfftw3f_threads.so.3 / libfftw3_threads.so.3 (same packages).
/// Complex arrays are interleaved (re, im) pairs.
/// </summary>
internal static unsafe class FftwNative
{
    public const string SingleLibrary = "libfftw3f.so.3";
    public const string SingleThreadsLibrary = "libfftw3f_threads.so.3";
    public const string SinglePackage = "libfftw3-single3";
    public const string DoubleLibrary = "libfftw3.so.3";
    public const string DoubleThreadsLibrary = "libfftw3_threads.so.3";
    public const string DoublePackage = "libfftw3-double3";

    /// <summary>Planning by heuristics only: the arrays are not touched while planning, and planning a 4096^2 transform takes milliseconds.</summary>
    public const uint Estimate = 1u << 6;

    /// <summary>The plan may be executed on arrays of any alignment (for plans applied to single rows inside a larger array).</summary>
    public const uint Unaligned = 1u << 1;

    public const int ForwardSign = -1;

    [DllImport(SingleLibrary)] public static extern IntPtr fftwf_plan_dft_r2c_2d(int n0, int n1, float* input, float* output, uint flags);
    [DllImport(SingleLibrary)] public static extern IntPtr fftwf_plan_dft_c2r_2d(int n0, int n1, float* input, float* output, uint flags);
    [DllImport(SingleLibrary)] public static extern void fftwf_execute_dft_r2c(IntPtr plan, float* input, float* output);
    [DllImport(SingleLibrary)] public static extern void fftwf_execute_dft_c2r(IntPtr plan, float* input, float* output);
    [DllImport(SingleLibrary)] public static extern IntPtr fftwf_plan_many_dft_r2c(int rank, int* n, int howmany, float* input, int* inembed, int istride, int idist, float* output, int* onembed, int ostride, int odist, uint flags);
    [DllImport(SingleLibrary)] public static extern IntPtr fftwf_plan_many_dft(int rank, int* n, int howmany, float* input, int* inembed, int istride, int idist, float* output, int* onembed, int ostride, int odist, int sign, uint flags);
    [DllImport(SingleLibrary)] public static extern void fftwf_execute_dft(IntPtr plan, float* input, float* output);
    [DllImport(SingleLibrary)] public static extern void fftwf_destroy_plan(IntPtr plan);
    [DllImport(SingleLibrary)] public static extern void* fftwf_malloc(nuint bytes);
    [DllImport(SingleLibrary)] public static extern void fftwf_free(void* pointer);
    [DllImport(SingleThreadsLibrary)] public static extern int fftwf_init_threads();
    [DllImport(SingleThreadsLibrary)] public static extern void fftwf_plan_with_nthreads(int threads);

    [DllImport(DoubleLibrary)] public static extern IntPtr fftw_plan_dft_r2c_2d(int n0, int n1, double* input, double* output, uint flags);
    [DllImport(DoubleLibrary)] public static extern IntPtr fftw_plan_dft_c2r_2d(int n0, int n1, double* input, double* output, uint flags);
    [DllImport(DoubleLibrary)] public static extern void fftw_execute_dft_r2c(IntPtr plan, double* input, double* output);
    [DllImport(DoubleLibrary)] public static extern void fftw_execute_dft_c2r(IntPtr plan, double* input, double* output);
    [DllImport(DoubleLibrary)] public static extern void fftw_destroy_plan(IntPtr plan);
    [DllImport(DoubleLibrary)] public static extern void* fftw_malloc(nuint bytes);
    [DllImport(DoubleLibrary)] public static extern void fftw_free(void* pointer);
    [DllImport(DoubleThreadsLibrary)] public static extern int fftw_init_threads();
    [DllImport(DoubleThreadsLibrary)] public static extern void fftw_plan_with_nthreads(int threads);
}
