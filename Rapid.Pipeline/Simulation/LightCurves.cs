namespace Rapid.Pipeline.Simulation;

/// <summary>Brightness of a source over time, as a factor on its reference flux (times are MJD, days).</summary>
public interface ILightCurve
{
    double FluxFactorAt(double mjd);
}

/// <summary>A source of constant flux.</summary>
public sealed record ConstantLightCurve : ILightCurve
{
    public static readonly ConstantLightCurve Instance = new();
    public double FluxFactorAt(double mjd) => 1;
}

/// <summary>
/// A supernova-like light curve, exactly zero before the explosion:
/// f(t) = (1 − e^(−τ/τ_rise)) · e^(−τ/τ_fall) / f_max with τ = t − t_explosion, so the factor is 1 at peak
/// (the shape of Bazin et al. 2009, A&amp;A 499, 653, with a hard start). Time scales are compressed
/// (days rather than weeks) so a rise and decline fit into a survey of a few nights.
/// </summary>
public sealed record SupernovaLightCurve(double ExplosionMjd, double RiseDays, double FallDays) : ILightCurve
{
    public double PeakMjd => ExplosionMjd + RiseDays * Math.Log(1 + FallDays / RiseDays);

    public double FluxFactorAt(double mjd)
    {
        var tau = mjd - ExplosionMjd;
        if (tau <= 0) return 0;
        return Shape(tau) / Shape(PeakMjd - ExplosionMjd);
    }

    private double Shape(double tau) => (1 - Math.Exp(-tau / RiseDays)) * Math.Exp(-tau / FallDays);
}

/// <summary>A sinusoidal pulsating variable: m(t) = m_mean + A sin(2π (t − t0)/P); the factor is 10^(−0.4 (m − m_mean)).</summary>
public sealed record PulsatingLightCurve(double AmplitudeMag, double PeriodDays, double PhaseZeroMjd) : ILightCurve
{
    public double FluxFactorAt(double mjd) =>
        Math.Pow(10, -0.4 * AmplitudeMag * Math.Sin(2 * Math.PI * (mjd - PhaseZeroMjd) / PeriodDays));
}
