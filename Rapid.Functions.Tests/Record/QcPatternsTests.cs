using System.Text;
using Rapid.Functions.Record.Qc;

namespace Rapid.Functions.Tests.Record;

public sealed class QcPatternsTests
{
    private static QcPatterns Load(string json) => QcPatterns.Load(Encoding.UTF8.GetBytes(json), "test.json");

    [Fact]
    public void The_reviewed_patterns_load_and_each_matches_its_examples_and_none_of_the_others_lines_by_accident()
    {
        var qc = QcPatterns.BuiltIn();
        Assert.True(qc.Patterns.Count >= 10);
        foreach (var p in qc.Patterns)
            foreach (var example in p.Examples)
                Assert.Contains(qc.Scan(example), m => m.Pattern.Name == p.Name);
        // A clean log of a successful job matches nothing.
        const string clean = """
            2028-09-08T07:41:01.001Z rapid-pipeline 1.0.0+abc: jid 12, ppid 15, array index 0, batch job local-1:0, attempt 1
            2028-09-08T07:41:01.120Z step download: start
            2028-09-08T07:41:02.500Z step download: done in 1.380 s (cpu 0.400 s)
            2028-09-08T07:41:09.512Z flux scale 1.0213 from 31 of 40 matched stars (astrometry from 29 point-like); dx median 0.012 rms 0.041, dy median -0.008 rms 0.038 px
            2028-09-08T07:41:09.911Z 12 feature(s) sharper than the PSF (FWHM 1.38 px) masked as cosmic rays or hot pixels (44 pixels)
            2028-09-08T07:41:11.020Z fake sources: 47 of 50 found (m50 24.81, m90 23.90, flux bias -0.4%)
            2028-09-08T07:41:12.306Z terminating exit code 0 (success)
            """;
        Assert.Empty(qc.Scan(clean));
    }

    [Fact]
    public void A_scan_gives_line_numbers_cuts_long_lines_and_stops_at_the_cap()
    {
        var qc = Load("""{"patterns":[{"name":"boom","severity":"error","regex":"boom","description":"d","examples":["boom"]}]}""");
        var matches = qc.Scan("ok\r\nboom " + new string('x', 900) + "\nok\nboom\n");
        Assert.Equal([2, 4], matches.Select(m => m.Line));
        Assert.Equal(QcPatterns.MaxLineLength, matches[0].Text.Length);
        Assert.Equal(QcPatterns.MaxMatchesPerLog, qc.Scan(string.Concat(Enumerable.Repeat("boom\n", 1000))).Count);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_scan_finds_on_each_line_exactly_the_patterns_that_match_it_alone(bool withHash)
    {
        // Inline options stay inside their pattern, anchors hold per line, a top-level alternation stays one pattern's; a
        // pattern with '#' makes the scan try every pattern on every line.
        var json = """
            {"patterns":[
              {"name":"a","severity":"info","regex":"(?i)abc","description":"d","examples":["ABC"]},
              {"name":"b","severity":"info","regex":"^XYZ$","description":"d","examples":["XYZ"]},
              {"name":"c","severity":"info","regex":"foo|bar","description":"d","examples":["bar"]}
            """ + (withHash ? """,{"name":"h","severity":"info","regex":"x#1","description":"d","examples":["x#1"]}""" : "") + "]}";
        var qc = Load(json);
        var log = "xyz\nABC XYZ\nXYZ\nbar abc\nx#1 foo\nnothing";
        Assert.Equal(Expected(qc, log), Names(qc.Scan(log)));
        Assert.Equal(withHash
            ? ["2 a", "3 b", "4 a", "4 c", "5 c", "5 h"]
            : ["2 a", "3 b", "4 a", "4 c", "5 c"], Names(qc.Scan(log)));

        // The reviewed patterns on every example line of theirs, each line also with the others' lines around it.
        var builtIn = QcPatterns.BuiltIn();
        var examples = string.Join("\n", builtIn.Patterns.SelectMany(p => p.Examples).Append("2028-09-08T07:41:12.306Z terminating exit code 0 (success)"));
        Assert.Equal(Expected(builtIn, examples), Names(builtIn.Scan(examples)));
    }

    /// <summary>Each line against each pattern's own regular expression, one at a time.</summary>
    private static List<string> Expected(QcPatterns qc, string log) =>
        log.Split('\n').SelectMany((line, i) => qc.Patterns
            .Where(p => new System.Text.RegularExpressions.Regex(p.Regex, System.Text.RegularExpressions.RegexOptions.NonBacktracking).IsMatch(line))
            .Select(p => $"{i + 1} {p.Name}")).ToList();

    private static List<string> Names(IEnumerable<QcMatch> matches) => matches.Select(m => $"{m.Line} {m.Pattern.Name}").ToList();

    [Theory]
    [InlineData("""{"patterns":[{"name":"Bad-Name","severity":"error","regex":"x","description":"d","examples":["x"]}]}""", "pattern 'Bad-Name': a name")]
    [InlineData("""{"patterns":[{"name":"a","severity":"fatal","regex":"x","description":"d","examples":["x"]}]}""", "severity 'fatal'")]
    [InlineData("""{"patterns":[{"name":"a","severity":"info","regex":"(?<=x)y","description":"d","examples":["xy"]}]}""", "not a non-backtracking")]
    [InlineData("""{"patterns":[{"name":"a","severity":"info","regex":"x","description":"d","examples":["y"]}]}""", "does not match its example \"y\"")]
    [InlineData("""{"patterns":[{"name":"a","severity":"info","regex":"x","description":"d"}]}""", "no example line")]
    [InlineData("""{"patterns":[{"name":"a","severity":"info","regex":"x","description":"d","examples":["x"]},{"name":"a","severity":"info","regex":"y","description":"d","examples":["y"]}]}""", "used twice")]
    [InlineData("""{"patterns":[{"name":"a","severity":"info","regex":"x","examples":["x"]}]}""", "not a QC patterns file")]
    public void A_bad_patterns_file_is_one_error_naming_the_pattern(string json, string expected)
    {
        var e = Assert.Throws<InvalidDataException>(() => Load(json));
        Assert.StartsWith("test.json: ", e.Message);
        Assert.Contains(expected, e.Message);
    }
}
