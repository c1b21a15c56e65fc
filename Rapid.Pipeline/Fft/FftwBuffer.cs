using System.Runtime.InteropServices;

namespace Rapid.Pipeline.Fft;

/// <summary>
/// A native float array aligned to 64 bytes (more than any FFTW SIMD plan needs), so the cached plans can execute on it
/// directly (FFTW manual, section 4.6 "New-array Execute Functions") without copying 4116^2 images in and out of
/// per-instance buffers. Not zeroed on allocation. Owned by one caller; free it with Dispose.
/// </summary>
internal sealed unsafe class FftwBuffer : IDisposable
{
    private float* _pointer;

    public FftwBuffer(long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        if (length > Array.MaxLength) throw new ArgumentException($"a buffer of {length} floats is too large for one span");
        Length = (int)length;
        _pointer = (float*)NativeMemory.AlignedAlloc((nuint)(length * sizeof(float)), 64);
        if (_pointer == null) throw new OutOfMemoryException($"could not allocate {length * sizeof(float) / 1e6:F0} MB for an FFT buffer");
    }

    ~FftwBuffer() => Free();

    public int Length { get; }

    public float* Pointer
    {
        get
        {
            ObjectDisposedException.ThrowIf(_pointer == null, this);
            return _pointer;
        }
    }

    public Span<float> Span => new(Pointer, Length);

    /// <summary>Elements [start, start + length): for one row of an image or spectrum.</summary>
    public Span<float> Slice(long start, int length) => Span.Slice(checked((int)start), length);

    /// <summary>A buffer of at least this length from the process-wide pool (or a new one); Dispose gives it back.</summary>
    public static FftwBuffer Rent(long length)
    {
        lock (Pool)
        {
            for (var k = 0; k < Pool.Count; k++)
            {
                if (Pool[k].Length != length) continue;
                var b = Pool[k];
                Pool.RemoveAt(k);
                b._pooled = true;
                return b;
            }
        }
        return new FftwBuffer(length) { _pooled = true };
    }

    /// <summary>Frees the pooled buffers (e.g. when the transforms of a job are done).</summary>
    public static void TrimPool()
    {
        lock (Pool)
        {
            foreach (var b in Pool) { b._pooled = false; b.Dispose(); }
            Pool.Clear();
        }
    }

    /// <summary>
    /// Frees the memory now, pooled or not (a buffer whose work is done while larger allocations are still to come); a
    /// later Dispose does nothing.
    /// </summary>
    public void Release()
    {
        _pooled = false;
        Free();
        GC.SuppressFinalize(this);
    }

    private static readonly List<FftwBuffer> Pool = [];
    private bool _pooled;

    public void Dispose()
    {
        if (_pooled && _pointer != null)
        {
            lock (Pool) Pool.Add(this);
            return;
        }
        Free();
        GC.SuppressFinalize(this);
    }

    private void Free()
    {
        if (_pointer == null) return;
        NativeMemory.AlignedFree(_pointer);
        _pointer = null;
    }
}
