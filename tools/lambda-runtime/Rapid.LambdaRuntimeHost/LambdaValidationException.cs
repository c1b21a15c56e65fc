namespace Rapid.LambdaRuntimeHost;

/// <summary>
/// The function cannot be initialised: the handler string, assembly, type or method is wrong. Named
/// as the managed runtime's exception for the same failures, so the error type reported to the
/// Runtime API is the one AWS reports.
/// </summary>
public sealed class LambdaValidationException(string message, Exception? inner = null) : Exception(message, inner);
