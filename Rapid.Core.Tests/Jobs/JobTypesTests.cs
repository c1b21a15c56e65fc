using Rapid.Core.Jobs;

namespace Rapid.Core.Tests.Jobs;

public class JobTypesTests
{
    private static Dictionary<string, string?> Inputs(params (string Name, string? Value)[] pairs) => pairs.ToDictionary(p => p.Name, p => p.Value);

    [Fact]
    public void Every_declared_type_names_its_required_inputs_and_a_submission_without_one_is_refused_naming_it()
    {
        Assert.Equal(["reference", "science", "postprocessing", "nightrecovery", "diff"], JobTypes.All.Select(t => t.Name));
        foreach (var type in JobTypes.All)
        {
            foreach (var required in type.Inputs.Where(i => i.Required))
            {
                var others = type.Inputs.Where(i => i != required).ToDictionary(i => i.Name, i => (string?)Valid(i.Kind));
                var e = Assert.Throws<JobInputException>(() => type.Validate(others));
                Assert.Equal(required.Name, e.Input);
                Assert.Contains("required", e.Message);
            }
        }
    }

    [Theory]
    [InlineData("science", "rid", "0", "positive integer")]
    [InlineData("science", "rid", "12abc", "positive integer")]
    [InlineData("science", "rid", "99999999999999999999999", "positive integer")]
    [InlineData("science", "procdate", "2028-09-21", "procdate")]
    [InlineData("reference", "filter", "H158; drop table jobs", "filter name")]
    [InlineData("diff", "science", "relative/path.fits", "absolute path")]
    [InlineData("diff", "science", "/no/such/file.fits", "no such file")]
    public void A_malformed_input_is_refused_naming_it(string typeName, string input, string value, string problem)
    {
        var type = JobTypes.Named(typeName);
        var inputs = type.Inputs.ToDictionary(i => i.Name, i => (string?)Valid(i.Kind));
        inputs[input] = value;

        var e = Assert.Throws<JobInputException>(() => type.Validate(inputs));

        Assert.Equal(input, e.Input);
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void An_input_a_type_does_not_take_and_an_unknown_type_are_refused_naming_them()
    {
        var e = Assert.Throws<JobInputException>(() => JobTypes.Science.Validate(Inputs(("rid", "4"), ("field", "7"))));
        Assert.Equal("field", e.Input);
        e = Assert.Throws<JobInputException>(() => JobTypes.Named("mosaic"));
        Assert.Equal("type", e.Input);
    }

    [Fact]
    public void A_valid_submission_keeps_its_inputs_normalised_and_leaves_out_optional_ones_not_given()
    {
        var submission = JobTypes.Reference.Validate(Inputs(("field", " 0042 "), ("filter", "h158"), ("procdate", null)));

        Assert.Equal(42, submission.Id(JobTypes.Field));
        Assert.Equal("H158", submission.Text(JobTypes.Filter));
        Assert.False(submission.Inputs.ContainsKey("procdate"));
        Assert.Null(submission.ProcDate());
        Assert.Equal(ProcessingDate.Parse("20280921"), JobTypes.PostProcessing.Validate(Inputs(("procdate", "20280921"))).ProcDate(JobTypes.ProcDateRequired));
    }

    [Fact]
    public void Reading_an_input_the_submission_s_type_does_not_declare_throws_naming_it()
    {
        var submission = JobTypes.Science.Validate(Inputs(("rid", "4")));

        var e = Assert.Throws<InvalidOperationException>(() => submission.Id(JobTypes.Field));
        Assert.Contains("a science job declares no input 'field'", e.Message);
        Assert.Throws<InvalidOperationException>(() => submission.Text(JobTypes.ProcDateRequired));
        Assert.Equal(4, submission.Id(JobTypes.Rid));
    }

    [Fact]
    public void The_AWS_diff_takes_the_same_inputs_as_object_URIs_and_names_one_that_is_not()
    {
        Assert.Equal(JobTypes.Diff.Inputs.Select(i => (i.Name, i.Required)), JobTypes.DiffObjects.Inputs.Select(i => (i.Name, i.Required)));
        Assert.Equal(JobTypes.All.Select(t => t.Name), JobTypes.OnAws.Select(t => t.Name));
        Assert.Same(JobTypes.DiffObjects, JobTypes.Named("diff", JobTypes.OnAws));
        var given = JobTypes.DiffObjects.Inputs.ToDictionary(i => i.Name, i => (string?)$"s3://rapid-pipeline-files/diff-inputs/{i.Name}.fits");

        Assert.Equal("s3://rapid-pipeline-files/diff-inputs/science.fits", JobTypes.DiffObjects.Validate(given).Text(JobTypes.DiffScienceObject));
        foreach (var bad in new[] { "/home/me/science.fits", "s3://bucket-only", "s3://bucket/dir/", "https://bucket/key" })
        {
            var e = Assert.Throws<JobInputException>(() => JobTypes.DiffObjects.Validate(new Dictionary<string, string?>(given) { ["science"] = bad }));
            Assert.Equal("science", e.Input);
            Assert.Equal($"input 'science': '{bad}' is not an object URI (s3://bucket/key)", e.Message);
        }
    }

    private static string Valid(JobInputKind kind) => kind switch
    {
        JobInputKind.Id => "7",
        JobInputKind.ProcDate => "20280921",
        JobInputKind.Filter => "H158",
        JobInputKind.File => typeof(JobTypesTests).Assembly.Location,
        JobInputKind.ObjectUri => "s3://bucket/key.fits",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };
}
