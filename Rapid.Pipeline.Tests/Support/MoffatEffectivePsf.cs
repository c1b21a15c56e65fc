using Rapid.Pipeline.Psf;
using Rapid.Pipeline.Simulation;

namespace Rapid.Pipeline.Tests.Support;

/// <summary>The simulator's pixel-integrated Moffat as a known effective PSF, for tests that hand one in.</summary>
internal static class MoffatEffectivePsf
{
    /// <summary>A Moffat of the given FWHM (pixels) rendered at 4x on a 4x finer grid (17 px half-size), constant.</summary>
    public static EffectivePsf Of(double fwhm)
    {
        const int s = 4, h = 17 * s;
        var samples = new double[(2 * h + 1) * (2 * h + 1)];
        new MoffatPsf(fwhm * s).FillStamp(samples, h, 0, 0);
        return new EffectivePsf([samples], 2 * h + 1, s, 0, (0, 0, 1), PsfMethod.Given, 0);
    }
}
