namespace Rapid.Pipeline.Fft;

/// <summary>The FFTW library could not be loaded; the message names the library and the Debian package that provides it.</summary>
public sealed class FftwUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
