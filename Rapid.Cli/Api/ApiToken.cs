using System.Security.Cryptography;
using System.Text;

namespace Rapid.Cli.Api;

/// <summary>
/// The bearer token <c>rapid serve</c> requires on every call: 32 random bytes (base64url), made on first start in a file
/// only its owner may read or write (mode 0600, created with that mode, never widened); a token file others can read is
/// refused. The token is compared in constant time and never printed or logged (only the file's path is).
/// </summary>
public sealed class ApiToken
{
    private readonly byte[] _token;

    private ApiToken(byte[] token) => _token = token;

    public static ApiToken LoadOrCreate(string path, out bool created)
    {
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException("the API token file's mode 0600 needs a Unix file system");
        created = false;
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            var token = Base64Url(RandomNumberGenerator.GetBytes(32));
            try
            {
                using var file = new FileStream(path, new FileStreamOptions
                {
                    Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
                });
                file.Write(Encoding.ASCII.GetBytes(token + "\n"));
                created = true;
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another server made it first: use theirs.
            }
        }
        var mode = File.GetUnixFileMode(path);
        if ((mode & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite)) != 0)
            throw new ArgumentException($"{path}: the API token file may be read or written by others (mode {Convert.ToString((int)mode, 8)}): chmod 600 it, or remove it to make a new token");
        var text = File.ReadAllText(path).Trim();
        if (text.Length < 32) throw new ArgumentException($"{path}: the API token file holds no token of at least 32 characters (remove it to make a new one)");
        return new ApiToken(Encoding.ASCII.GetBytes(text));
    }

    /// <summary>Whether an Authorization header value is "Bearer " and this token.</summary>
    public bool Accepts(string? authorization)
    {
        const string scheme = "Bearer ";
        if (authorization is null || !authorization.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)) return false;
        var given = Encoding.ASCII.GetBytes(authorization[scheme.Length..].Trim());
        return CryptographicOperations.FixedTimeEquals(given, _token);
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
