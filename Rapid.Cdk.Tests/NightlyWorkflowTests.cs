using System.Text.Json.Nodes;
using Rapid.Cdk.Tests.Support;

namespace Rapid.Cdk.Tests;

[Collection(DefaultStackCollection.Name)]
public sealed class NightlyWorkflowTests(DefaultStack stack, SecondStack small)
{
    private readonly JsonObject _definition = StateMachineDefinition.Parse(stack);

    private JsonObject States => _definition["States"]!.AsObject();

    /// <summary>The night's states: the one branch of the Parallel state "Night".</summary>
    private JsonObject NightStates => States["Night"]!["Branches"]![0]!["States"]!.AsObject();

    /// <summary>A state by name, wherever it is (top level, the Parallel's branch, a Map's item processor).</summary>
    private JsonObject State(string name) =>
        AllStates(States).Where(s => s.Name == name).Select(s => s.State).SingleOrDefault()
        ?? throw new Xunit.Sdk.XunitException($"no state '{name}' in the definition");

    /// <summary>All states, including those inside Parallel branches and Map item processors.</summary>
    private static IEnumerable<(string Name, JsonObject State)> AllStates(JsonObject states) =>
        AllStatesWithContainer(states).Select(s => (s.Name, s.State));

    private static bool IsBatch(JsonObject state) =>
        state["Resource"]?.GetValue<string>().EndsWith(":states:::batch:submitJob.sync", StringComparison.Ordinal) == true;

    [Fact]
    public void Definition_is_valid_amazon_states_language()
    {
        var result = AslValidator.Validate(StateMachineDefinition.Extract(stack));
        Assert.True(result.ExitCode == 0, $"asl-validator rejected the definition:\n{result.Output}");
    }

    [Fact]
    public void State_machine_is_a_standard_workflow_named_after_its_stack()
    {
        var (_, machine) = stack.Resources("AWS::StepFunctions::StateMachine").Single(m => m.Id.StartsWith("NightlyWorkflow", StringComparison.Ordinal));
        Assert.Equal("STANDARD", machine["Properties"]!["StateMachineType"]!.GetValue<string>());
        Assert.Equal("Rapid-nightly", machine["Properties"]!["StateMachineName"]!.GetValue<string>());
    }

    /// <summary>
    /// Defect 5 of issue 9. Step Functions' "IAM policies for AWS Batch" for <c>batch:submitJob.sync</c>: SubmitJob,
    /// DescribeJobs (which it polls while the job runs) and TerminateJob, and the managed event rule.
    /// </summary>
    [Fact]
    public void The_state_machines_role_may_do_what_submit_job_sync_needs()
    {
        var roleId = stack.Resources("AWS::StepFunctions::StateMachine").Single(m => m.Id.StartsWith("NightlyWorkflow", StringComparison.Ordinal)).Resource["Properties"]!["RoleArn"]!["Fn::GetAtt"]![0]!.GetValue<string>();
        var actions = stack.Resources("AWS::IAM::Policy")
            .Where(p => p.Resource["Properties"]!["Roles"]!.AsArray().Any(r => r!["Ref"]?.GetValue<string>() == roleId))
            .SelectMany(p => p.Resource["Properties"]!["PolicyDocument"]!["Statement"]!.AsArray())
            .SelectMany(st => st!["Action"] is JsonArray a ? a.Select(x => x!.GetValue<string>()) : [st["Action"]!.GetValue<string>()])
            .ToHashSet();
        Assert.Superset(new HashSet<string>
        {
            "batch:SubmitJob", "batch:DescribeJobs", "batch:TerminateJob", "events:PutTargets", "events:PutRule", "events:DescribeRule",
        }, actions);
    }

    [Fact]
    public void The_array_limit_is_a_setting_of_the_workflow_and_of_the_plans()
    {
        var definition = StateMachineDefinition.Parse(small)["States"]!["Night"]!["Branches"]![0]!["States"]!.AsObject();
        var array = definition["ChooseScienceRun"]!["Choices"]!.AsArray().Single(c => c!["NumericLessThanEquals"] is not null)!;
        Assert.Equal(SecondStack.MaxArraySize, array["NumericLessThanEquals"]!.GetValue<int>());
        foreach (var (_, function) in small.Resources("AWS::Lambda::Function").Where(f => OpsDatabaseTests.IsOperationsStep(f.Resource)))
            Assert.Equal($"{SecondStack.MaxArraySize}", function["Properties"]!["Environment"]!["Variables"]!["RAPID_MAX_ARRAY_SIZE"]!.GetValue<string>());
    }

    [Fact]
    public void Stages_run_in_the_order_of_the_design()
    {
        // Follow the path of a night where every stage runs an array job that succeeds and nothing is resubmitted.
        Assert.Equal("ResolveWindow", _definition["StartAt"]!.GetValue<string>());
        Assert.Equal("Night", State("ResolveWindow")["Next"]!.GetValue<string>());
        Assert.Equal("Parallel", State("Night")["Type"]!.GetValue<string>());
        Assert.True(State("Night")["End"]!.GetValue<bool>());
        var path = new List<string>();
        var name = States["Night"]!["Branches"]![0]!["StartAt"]!.GetValue<string>();
        while (true)
        {
            path.Add(name);
            var state = State(name);
            if (state["Type"]!.GetValue<string>() == "Choice")
                name = name.StartsWith("Any", StringComparison.Ordinal) ? state["Default"]!.GetValue<string>()
                    : state["Choices"]!.AsArray().Single(c => c!["NumericLessThanEquals"] is not null)!["Next"]!.GetValue<string>();
            else if (state["End"]?.GetValue<bool>() == true) break;
            else name = state["Next"]!.GetValue<string>();
        }
        Assert.Equal(
        [
            "PlanReferences", "ChooseReferencesRun", "RunReferencesArray", "ReferencesRan", "RegisterReferences",
            "ReferencesRetryStart", "PlanRetryReferences", "AnyReferencesRetry",
            "PlanScience", "ChooseScienceRun", "RunScienceArray", "ScienceRan", "RegisterScience",
            "ScienceRetryStart", "PlanRetryScience", "AnyScienceRetry",
            "PlanPostProc", "ChoosePostProcRun", "RunPostProcArray", "PostProcRan", "RegisterPostProc",
            "PostProcRetryStart", "PlanRetryPostProc", "AnyPostProcRetry",
            "PlanNightRecovery", "ChooseNightRecoveryRun", "RunNightRecoveryArray", "NightRecoveryRan", "RegisterNightRecovery",
            "NightRecoveryRetryStart", "PlanRetryNightRecovery", "AnyNightRecoveryRetry",
            "Summarize", "NotifyNight",
        ], path);
    }

    [Theory]
    [InlineData("References", "references")]
    [InlineData("Science", "science")]
    [InlineData("PostProc", "postProcessing")]
    [InlineData("NightRecovery", "nightRecovery")]
    public void Choice_runs_nothing_one_job_an_array_or_chunks_by_planned_size(string stage, string key)
    {
        var choice = State($"Choose{stage}Run");
        var choices = choice["Choices"]!.AsArray().Select(c => c!.AsObject()).ToList();
        Assert.All(choices, c => Assert.Equal($"$.{key}.plan.arraySize", c["Variable"]!.GetValue<string>()));
        Assert.Equal($"{stage}Skipped", choices.Single(c => c["NumericEquals"]?.GetValue<int>() == 0)["Next"]!.GetValue<string>());
        Assert.Equal($"Run{stage}Single", choices.Single(c => c["NumericEquals"]?.GetValue<int>() == 1)["Next"]!.GetValue<string>());
        var array = choices.Single(c => c["NumericLessThanEquals"] is not null);
        Assert.Equal(10_000, array["NumericLessThanEquals"]!.GetValue<int>());
        Assert.Equal($"Run{stage}Array", array["Next"]!.GetValue<string>());
        Assert.Equal($"Run{stage}Chunks", choice["Default"]!.GetValue<string>());
        Assert.Equal("Map", State($"Run{stage}Chunks")["Type"]!.GetValue<string>());
        Assert.Equal($"$.{key}.plan.chunks", State($"Run{stage}Chunks")["ItemsPath"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("References", "references")]
    [InlineData("Science", "science")]
    [InlineData("PostProc", "postProcessing")]
    [InlineData("NightRecovery", "nightRecovery")]
    public void Array_job_takes_its_size_and_job_list_from_the_plan(string stage, string key)
    {
        var parameters = State($"Run{stage}Array")["Parameters"]!;
        Assert.Equal($"$.{key}.plan.arraySize", parameters["ArrayProperties"]!["Size.$"]!.GetValue<string>());
        var environment = parameters["ContainerOverrides"]!["Environment"]!.AsArray().Single()!;
        Assert.Equal("RAPID_JOB_LIST", environment["Name"]!.GetValue<string>());
        Assert.Equal($"$.{key}.plan.jobList", environment["Value.$"]!.GetValue<string>());

        var single = State($"Run{stage}Single")["Parameters"]!;
        Assert.Null(single["ArrayProperties"]);
        Assert.Equal($"$.{key}.plan.jobList", single["ContainerOverrides"]!["Environment"]![0]!["Value.$"]!.GetValue<string>());
    }

    [Fact]
    public void Every_batch_state_catches_every_error_so_registration_still_runs()
    {
        var batchStates = AllStates(States).Where(s => IsBatch(s.State)).ToList();
        Assert.Equal(20, batchStates.Count); // single, array and chunk, and the retry's single and array, for four stages
        foreach (var (name, state) in batchStates)
        {
            var catcher = Assert.Single(state["Catch"]!.AsArray())!;
            Assert.Equal(["States.ALL"], catcher["ErrorEquals"]!.AsArray().Select(e => e!.GetValue<string>()));
            var handler = catcher["Next"]!.GetValue<string>();
            if (name.EndsWith("Chunk", StringComparison.Ordinal))
                continue; // inside the Map: the failed chunk ends its iteration, the Map goes on to Register
            var rerun = name.StartsWith("Rerun", StringComparison.Ordinal);
            var stage = name[(rerun ? "Rerun" : "Run").Length..^(name.EndsWith("Single", StringComparison.Ordinal) ? "Single".Length : "Array".Length)];
            Assert.Equal(rerun ? $"{stage}RetryFailed" : $"{stage}Failed", handler);
            Assert.Equal(rerun ? $"Register{stage}Retry" : $"Register{stage}", State(handler)["Next"]!.GetValue<string>());
        }
        foreach (var stage in new[] { "References", "Science", "PostProc", "NightRecovery" })
        {
            var map = State($"Run{stage}Chunks");
            Assert.Equal($"Register{stage}", map["Next"]!.GetValue<string>());
            Assert.Equal($"{stage}Failed", map["Catch"]![0]!["Next"]!.GetValue<string>());
        }
    }

    [Fact]
    public void Batch_states_retry_service_errors_and_time_out_as_a_state()
    {
        foreach (var (name, state) in AllStates(States).Where(s => IsBatch(s.State)))
        {
            var errors = state["Retry"]!.AsArray().SelectMany(r => r!["ErrorEquals"]!.AsArray().Select(e => e!.GetValue<string>())).ToList();
            Assert.Contains("Batch.AWSBatchException", errors);
            Assert.DoesNotContain("States.ALL", errors);
            Assert.DoesNotContain("States.TaskFailed", errors);
            Assert.Equal(12 * 3600, state["TimeoutSeconds"]!.GetValue<int>());
            // The job definition's attempt timeout must not be overridden per submission.
            Assert.True(state["Parameters"]!["Timeout"] is null, $"{name} overrides the job attempt timeout");
        }
    }

    [Fact]
    public void Batch_result_is_overwritten_by_a_small_outcome_in_the_next_state()
    {
        foreach (var (states, name, state) in AllStatesWithContainer(States).Where(s => IsBatch(s.State)))
        {
            var resultPath = state["ResultPath"]!.GetValue<string>();
            var next = states[state["Next"]!.GetValue<string>()]!.AsObject();
            Assert.Equal("Pass", next["Type"]!.GetValue<string>());
            // A Pass without ResultPath replaces the whole state (inside a Map iteration).
            var overwritten = next["ResultPath"]?.GetValue<string>() ?? "$";
            Assert.True(resultPath.StartsWith(overwritten, StringComparison.Ordinal),
                $"{name} keeps its Batch result at {resultPath}, which {state["Next"]} does not overwrite");
        }
    }

    private static IEnumerable<(JsonObject States, string Name, JsonObject State)> AllStatesWithContainer(JsonObject states)
    {
        foreach (var (name, node) in states)
        {
            var state = node!.AsObject();
            yield return (states, name, state);
            if (state["ItemProcessor"]?["States"] is JsonObject inner)
                foreach (var nested in AllStatesWithContainer(inner)) yield return nested;
            foreach (var branch in state["Branches"]?.AsArray() ?? [])
                foreach (var nested in AllStatesWithContainer(branch!["States"]!.AsObject())) yield return nested;
        }
    }

    [Fact]
    public void Every_task_has_a_timeout()
    {
        foreach (var (name, state) in AllStates(States).Where(s => s.State["Type"]!.GetValue<string>() == "Task"))
            Assert.True(state["TimeoutSeconds"]?.GetValue<int>() > 0, $"{name} has no timeout");
    }

    [Fact]
    public void Failed_run_keeps_the_error_name_but_not_the_cause()
    {
        var failed = State("ScienceFailed");
        Assert.Equal("$.science.run", failed["ResultPath"]!.GetValue<string>());
        var parameters = failed["Parameters"]!.AsObject();
        Assert.True(parameters["failed"]!.GetValue<bool>());
        Assert.Equal("$.science.run.Error", parameters["error.$"]!.GetValue<string>());
        Assert.False(parameters.ContainsKey("cause.$"));
    }

    [Fact]
    public void Plan_steps_get_the_night_and_keep_their_plan()
    {
        var plan = State("PlanScience");
        Assert.Equal("$.night", plan["InputPath"]!.GetValue<string>());
        Assert.Equal("$.science.plan", plan["ResultPath"]!.GetValue<string>());
        Assert.Equal("$.night", State("ResolveWindow")["ResultPath"]!.GetValue<string>());
    }

    /// <summary>Issue 13: ResolveWindow gets the execution input and the execution's id (recorded as runs.execution).</summary>
    [Fact]
    public void ResolveWindow_gets_the_execution_input_and_the_executions_id()
    {
        var payload = State("ResolveWindow")["Parameters"]!.AsObject();
        Assert.Equal(("$", "$$.Execution.Id"), (payload["input.$"]!.GetValue<string>(), payload["executionId.$"]!.GetValue<string>()));
        Assert.Equal(2, payload.Count);
    }

    /// <summary>The night's recovery job (ppid 18) runs after post-processing is registered, with the post-processing job definition, and Summarize gets its stage.</summary>
    [Fact]
    public void Night_recovery_is_a_stage_of_its_own_after_post_processing()
    {
        Assert.Equal("PlanNightRecovery", State("AnyPostProcRetry")["Default"]!.GetValue<string>());
        Assert.Equal("Summarize", State("AnyNightRecoveryRetry")["Default"]!.GetValue<string>());
        Assert.Equal("Summarize", State("NightRecoverySkipped")["Next"]!.GetValue<string>());
        Assert.Equal(State("RunPostProcArray")["Parameters"]!["JobDefinition"]!.GetValue<string>(),
            State("RunNightRecoveryArray")["Parameters"]!["JobDefinition"]!.GetValue<string>());
        Assert.Equal("$.nightRecovery", State("Summarize")["Parameters"]!["nightRecovery.$"]!.GetValue<string>());
        Assert.Equal(4 * 12 * 3600 + 2 * 3600, _definition["TimeoutSeconds"]!.GetValue<int>()); // four Batch stages and the Lambda steps
    }

    /// <summary>
    /// Issue 9: a night that fails anywhere after ResolveWindow gives its processing date back. The Parallel state around
    /// the night catches every error into ReleaseNight (with the night and the caught error), which goes on to a Fail state
    /// that reports the caught error and cause; a failing ReleaseNight goes there too.
    /// </summary>
    [Fact]
    public void Any_failure_of_the_night_releases_its_lease_and_then_fails_the_execution_with_the_original_error()
    {
        var catcher = Assert.Single(State("Night")["Catch"]!.AsArray())!;
        Assert.Equal(["States.ALL"], catcher["ErrorEquals"]!.AsArray().Select(e => e!.GetValue<string>()));
        Assert.Equal(("ReleaseNight", "$.failure"), (catcher["Next"]!.GetValue<string>(), catcher["ResultPath"]!.GetValue<string>()));
        Assert.Equal("$[0]", State("Night")["OutputPath"]!.GetValue<string>());
        var release = State("ReleaseNight");
        Assert.Equal(("$.night", "$.failure"),
            (release["Parameters"]!["night.$"]!.GetValue<string>(), release["Parameters"]!["failure.$"]!.GetValue<string>()));
        Assert.Equal("NightFailed", release["Next"]!.GetValue<string>());
        Assert.Equal("NightFailed", release["Catch"]![0]!["Next"]!.GetValue<string>());
        var fail = State("NightFailed");
        Assert.Equal(("Fail", "$.failure.Error", "$.failure.Cause"),
            (fail["Type"]!.GetValue<string>(), fail["ErrorPath"]!.GetValue<string>(), fail["CausePath"]!.GetValue<string>()));
        // Every state but ResolveWindow and the failure path is inside the caught branch.
        Assert.Equal(["Night", "NightFailed", "ReleaseNight", "ResolveWindow"], States.Select(s => s.Key).Order());
        Assert.Contains("Summarize", NightStates.Select(s => s.Key));
    }

    /// <summary>
    /// The run lease outlives every execution: the functions' RAPID_RUN_LEASE_HOURS is the state machine's timeout
    /// (4 × the stage timeout + 2 h), in the default stack and in one with another stage timeout.
    /// </summary>
    [Fact]
    public void The_run_lease_lasts_as_long_as_the_longest_execution()
    {
        foreach (var synthesized in new SynthesizedStack[] { stack, small })
        {
            var timeout = StateMachineDefinition.Parse(synthesized)["TimeoutSeconds"]!.GetValue<int>();
            var batchTimeout = AllStates(StateMachineDefinition.Parse(synthesized)["States"]!.AsObject())
                .Where(s => IsBatch(s.State)).Select(s => s.State["TimeoutSeconds"]!.GetValue<int>()).Distinct().Single();
            Assert.Equal(4 * batchTimeout + 2 * 3600, timeout);
            var functions = synthesized.Resources("AWS::Lambda::Function").Where(f => OpsDatabaseTests.IsOperationsStep(f.Resource)).ToList();
            Assert.NotEmpty(functions);
            foreach (var (id, function) in functions)
                Assert.True(function["Properties"]!["Environment"]!["Variables"]!["RAPID_RUN_LEASE_HOURS"]?.GetValue<string>() == $"{timeout / 3600}",
                    $"{id}: RAPID_RUN_LEASE_HOURS is not {timeout / 3600}");
        }
        Assert.NotEqual(StateMachineDefinition.Parse(stack)["TimeoutSeconds"]!.GetValue<int>(), StateMachineDefinition.Parse(small)["TimeoutSeconds"]!.GetValue<int>());
    }

    /// <summary>
    /// Issue 12: after each stage's registration, the retry loop PlanRetry → Any?Retry → Wait (the round's back-off) →
    /// a single or an array job of the round's job list → Register → PlanRetry, until PlanRetry plans nothing.
    /// </summary>
    [Theory]
    [InlineData("References", "references")]
    [InlineData("Science", "science")]
    [InlineData("PostProc", "postProcessing")]
    [InlineData("NightRecovery", "nightRecovery")]
    public void Every_stage_resubmits_its_failed_jobs_in_a_loop_of_rounds_after_its_registration(string stage, string key)
    {
        Assert.Equal($"{stage}RetryStart", State($"Register{stage}")["Next"]!.GetValue<string>());
        var start = State($"{stage}RetryStart");
        Assert.Equal(($"$.{key}.retry", 0), (start["ResultPath"]!.GetValue<string>(), start["Result"]!["round"]!.GetValue<int>()));
        Assert.Equal($"PlanRetry{stage}", start["Next"]!.GetValue<string>());

        var plan = State($"PlanRetry{stage}");
        var payload = plan["Parameters"]!;
        Assert.Equal(("$.night", $"$.{key}.plan", $"$.{key}.retry.round"),
            (payload["night.$"]!.GetValue<string>(), payload["plan.$"]!.GetValue<string>(), payload["previous.$"]!.GetValue<string>()));
        Assert.Equal($"$.{key}.retry", plan["ResultPath"]!.GetValue<string>());
        Assert.Equal($"Any{stage}Retry", plan["Next"]!.GetValue<string>());

        var any = State($"Any{stage}Retry");
        var rerun = Assert.Single(any["Choices"]!.AsArray())!;
        Assert.Equal(($"$.{key}.retry.plan.arraySize", 0, $"Wait{stage}Retry"),
            (rerun["Variable"]!.GetValue<string>(), rerun["NumericGreaterThan"]!.GetValue<int>(), rerun["Next"]!.GetValue<string>()));
        Assert.Equal($"$.{key}.retry.waitSeconds", State($"Wait{stage}Retry")["SecondsPath"]!.GetValue<string>());
        var choose = State($"Choose{stage}RetryRun");
        Assert.Equal($"Rerun{stage}Single", choose["Choices"]![0]!["Next"]!.GetValue<string>());
        Assert.Equal($"Rerun{stage}Array", choose["Default"]!.GetValue<string>());
        var array = State($"Rerun{stage}Array")["Parameters"]!;
        Assert.Equal($"$.{key}.retry.plan.arraySize", array["ArrayProperties"]!["Size.$"]!.GetValue<string>());
        Assert.Equal($"$.{key}.retry.plan.jobList", array["ContainerOverrides"]!["Environment"]![0]!["Value.$"]!.GetValue<string>());
        Assert.Equal(State($"Run{stage}Array")["Parameters"]!["JobDefinition"]!.GetValue<string>(), array["JobDefinition"]!.GetValue<string>());

        var register = State($"Register{stage}Retry");
        Assert.Equal(($"$.{key}.retry.plan", $"$.{key}.retryRun"),
            (register["Parameters"]!["plan.$"]!.GetValue<string>(), register["Parameters"]!["run.$"]!.GetValue<string>()));
        Assert.Equal($"PlanRetry{stage}", register["Next"]!.GetValue<string>());
    }
}
