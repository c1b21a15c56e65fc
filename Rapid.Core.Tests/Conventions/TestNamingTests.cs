using System.Text.RegularExpressions;
using Rapid.Core.Tests.Support;

namespace Rapid.Core.Tests.Conventions;

/// <summary>
/// One test-naming style in every test project: a test is named by the behaviour it pins, as a sentence whose words
/// are joined by underscores (<c>Bytes_put_are_the_bytes_got</c>), so a failing run reads as what broke.
/// </summary>
public sealed partial class TestNamingTests
{
    [Fact]
    public void Every_test_in_the_repository_is_named_as_a_sentence_joined_by_underscores()
    {
        var root = RepositoryFiles.Root();
        var tests = (
            from project in Directory.EnumerateDirectories(root, "*.Tests")
            from file in Directory.EnumerateFiles(project, "*.cs", SearchOption.AllDirectories)
            let relative = Path.GetRelativePath(root, file)
            where !relative.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}")
                && !relative.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}")
            from Match m in TestMethod().Matches(File.ReadAllText(file))
            select (File: relative, Name: m.Groups["name"].Value)).ToList();

        // Guards against a pattern that finds nothing and so passes whatever the names are.
        Assert.True(tests.Count > 500, $"found only {tests.Count} tests");
        var offenders = tests.Where(t => !SentenceName().IsMatch(t.Name)).Select(t => $"{t.File}: {t.Name}").ToList();
        Assert.True(offenders.Count == 0, $"{offenders.Count} tests not named as sentences:\n{string.Join("\n", offenders)}");
    }

    [GeneratedRegex(@"\[(?:Fact|Theory)\b[^\]]*\][\s\S]*?\bpublic\s+(?:async\s+)?(?:Task|void)\s+(?<name>\w+)\s*\(")]
    private static partial Regex TestMethod();

    [GeneratedRegex(@"^[A-Za-z0-9]+(?:_[A-Za-z0-9]+)+$")]
    private static partial Regex SentenceName();
}
