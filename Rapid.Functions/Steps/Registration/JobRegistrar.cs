using Rapid.Core.Contracts;
using Rapid.Core.Storage;

namespace Rapid.Functions.Steps.Registration;

/// <summary>What <c>begin_registration</c> checks against the job row, besides its ppid, processing date and keys.</summary>
internal sealed record JobExpectations
{
    public long? Rid { get; init; }
    /// <summary>Whether <see cref="Rfid"/> (null included) must be the reference the job was given.</summary>
    public bool CheckRfid { get; init; }
    public long? Rfid { get; init; }
    public long? Field { get; init; }
    public short? Fid { get; init; }
    public long? ParentJid { get; init; }
}

/// <summary>What one registered outcome adds to the run's report.</summary>
internal sealed record RegisteredCounts(int ReferenceImages = 0, int DifferenceImages = 0, int StampedProducts = 0);

/// <summary>
/// Registers one pipeline's outcome: validates it (beyond the common envelope <see cref="ManifestValidator"/> checks),
/// says what the job row must agree with, and adds its statements to the manifest's batch (after the job is closed and
/// its product files listed). One registrar per pipeline; <see cref="RegisterCompletedJobs"/> picks it by ppid.
/// </summary>
internal interface IJobRegistrar
{
    int Ppid { get; }
    ManifestViolation? Validate(ProductManifest m, JobOutcome outcome, ObjectKeys keys);
    JobExpectations Expect(JobOutcome outcome);
    void AddStatements(RegistrationBatch batch, ProductManifest m, JobOutcome outcome);
    /// <summary>Statements for every registered outcome of a batch at once, after each manifest's own (set-based).</summary>
    void AddBatchStatements(RegistrationBatch batch, IReadOnlyList<(ProductManifest Manifest, JobOutcome Outcome)> registered);
    RegisteredCounts Count(JobOutcome outcome);
}

/// <inheritdoc cref="IJobRegistrar"/>
internal abstract class JobRegistrar<TOutcome> : IJobRegistrar where TOutcome : JobOutcome
{
    public abstract int Ppid { get; }

    // The envelope's validation has checked that the outcome is of the manifest's ppid, which picked this registrar.
    public ManifestViolation? Validate(ProductManifest m, JobOutcome outcome, ObjectKeys keys) => Validate(m, (TOutcome)outcome, keys);
    public JobExpectations Expect(JobOutcome outcome) => Expect((TOutcome)outcome);
    public void AddStatements(RegistrationBatch batch, ProductManifest m, JobOutcome outcome) => AddStatements(batch, m, (TOutcome)outcome);
    public RegisteredCounts Count(JobOutcome outcome) => Count((TOutcome)outcome);
    public void AddBatchStatements(RegistrationBatch batch, IReadOnlyList<(ProductManifest Manifest, JobOutcome Outcome)> registered) =>
        AddBatchStatements(batch, registered.Select(r => (r.Manifest, (TOutcome)r.Outcome)).ToList());

    protected abstract ManifestViolation? Validate(ProductManifest m, TOutcome outcome, ObjectKeys keys);
    protected abstract JobExpectations Expect(TOutcome outcome);
    protected abstract void AddStatements(RegistrationBatch batch, ProductManifest m, TOutcome outcome);
    protected abstract RegisteredCounts Count(TOutcome outcome);

    /// <summary>None unless the pipeline registers its outcomes set-based.</summary>
    protected virtual void AddBatchStatements(RegistrationBatch batch, IReadOnlyList<(ProductManifest Manifest, TOutcome Outcome)> registered)
    {
    }

    /// <summary>The manifest's product of <paramref name="role"/>, or a violation naming it when the outcome needs it.</summary>
    protected static ManifestViolation? Requires(ProductManifest m, string role, string because) =>
        m.Products.Any(p => p.Role == role) ? null : new ManifestViolation("products", $"no '{role}' product, which {because} needs");

    protected static ProductFile Product(ProductManifest m, string role) => m.Products.Single(p => p.Role == role);
}
