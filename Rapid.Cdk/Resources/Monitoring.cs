using Amazon.CDK;
using Amazon.CDK.AWS.CloudWatch;
using Amazon.CDK.AWS.CloudWatch.Actions;
using Amazon.CDK.AWS.Events;
using Amazon.CDK.AWS.Events.Targets;
using Amazon.CDK.AWS.Logs;
using Amazon.CDK.AWS.SNS;
using Amazon.CDK.AWS.SNS.Subscriptions;
using Amazon.CDK.AWS.SQS;
using Amazon.CDK.AWS.StepFunctions;
using Constructs;
using Rapid.Cdk.Configuration;

namespace Rapid.Cdk.Resources;

/// <summary>
/// What ops staff watch, so that nobody has to poll Batch by hand as with the original: an SNS
/// topic (the night's summary and every alarm; optional e-mail subscription), alarms on failed or
/// timed-out executions, on manifests and Batch state-change events stuck in their dead-letter queues, on failed Batch jobs and on
/// Lambda errors, and a dashboard of the night.
/// </summary>
public sealed class Monitoring : Construct
{
    public const string MetricNamespace = "Rapid";
    public const string FailedJobsMetric = "BatchJobsFailed";
    public const string SumOfAllMetrics = "SUM(METRICS())";

    /// <summary>The dashboard's name: the stack's name qualifies it, so two stacks can share an account.</summary>
    public static string DashboardName(Stack stack) => $"{stack.StackName}-night";

    public Topic Topic { get; }

    public Monitoring(Construct scope, string id, MonitoringSettings settings) : base(scope, id)
    {
        Topic = new Topic(this, "Notifications", new TopicProps { DisplayName = "Rapid operations", EnforceSSL = true });
        if (settings.AlarmEmail is { } email)
            Topic.AddSubscription(new EmailSubscription(email));
    }

    /// <summary>
    /// Prompt processing's alarms: failed and timed-out executions of {stack}-prompt, and arrivals that could not be
    /// ingested 5 times (their dead-letter queue holds them; the Ingest λ's log names each file and why).
    /// </summary>
    public void WatchPrompt(IStateMachine prompt, IQueue deadLetters)
    {
        var action = new SnsAction(Topic);
        void Alarm(string name, IMetric metric, string description)
        {
            var alarm = new Alarm(this, name, new AlarmProps
            {
                Metric = metric,
                Threshold = 1,
                EvaluationPeriods = 1,
                ComparisonOperator = ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                TreatMissingData = TreatMissingData.NOT_BREACHING,
                AlarmDescription = description,
            });
            alarm.AddAlarmAction(action);
        }
        Alarm("PromptExecutionFailed", prompt.MetricFailed(new MetricOptions { Period = Duration.Minutes(5), Statistic = "Sum" }),
            "A prompt (per-image) execution failed: see the Step Functions console; the nightly run processes the image.");
        Alarm("PromptExecutionTimedOut", prompt.MetricTimedOut(new MetricOptions { Period = Duration.Minutes(5), Statistic = "Sum" }),
            "A prompt (per-image) execution timed out.");
        Alarm("ArrivalDeadLetters", deadLetters.MetricApproximateNumberOfMessagesVisible(new MetricOptions { Period = Duration.Minutes(5), Statistic = "Maximum" }),
            "L2 files that landed could not be ingested 5 times (bad header, database): the Ingest function's log names each file and why.");
    }

    /// <summary>
    /// Ended executions that could not be closed 5 times (or delivered by EventBridge): their runs, leases or jobs may still
    /// be open (the lease then expires with the execution's timeout).
    /// </summary>
    public void WatchEndedExecutions(IQueue deadLetters)
    {
        var alarm = new Alarm(this, "EndedExecutionDeadLetters", new AlarmProps
        {
            Metric = deadLetters.MetricApproximateNumberOfMessagesVisible(new MetricOptions { Period = Duration.Minutes(5), Statistic = "Maximum" }),
            Threshold = 1,
            EvaluationPeriods = 1,
            ComparisonOperator = ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            TreatMissingData = TreatMissingData.NOT_BREACHING,
            AlarmDescription = "Executions that failed, timed out or were stopped could not be closed 5 times: the CloseExecution function's log says why; their run leases expire with the execution timeout.",
        });
        alarm.AddAlarmAction(new SnsAction(Topic));
    }

    /// <summary>
    /// The job API's alarms: its functions' Lambda errors (crashes, timeouts), and the API's server errors (5xx: a handler
    /// answers 500 for a failure it caught, e.g. the database, which is not a Lambda error).
    /// </summary>
    public void WatchJobApi(Amazon.CDK.AWS.Apigatewayv2.HttpApi api, IReadOnlyList<Amazon.CDK.AWS.Lambda.IFunction> functions)
    {
        var action = new SnsAction(Topic);
        var period = new MetricOptions { Period = Duration.Minutes(5), Statistic = "Sum" };
        var lambdaErrors = new Alarm(this, "JobApiFunctionErrors", new AlarmProps
        {
            Metric = new MathExpression(new MathExpressionProps
            {
                Expression = SumOfAllMetrics,
                UsingMetrics = functions.Select((f, i) => (i, f)).ToDictionary(p => $"a{p.i}", p => (IMetric)p.f.MetricErrors(period)),
                Label = "Lambda errors (job API)",
                Period = Duration.Minutes(5),
            }),
            Threshold = 1, EvaluationPeriods = 1,
            ComparisonOperator = ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            TreatMissingData = TreatMissingData.NOT_BREACHING,
            AlarmDescription = "A Lambda of the job API raised an error or timed out: see its log.",
        });
        lambdaErrors.AddAlarmAction(action);
        var serverErrors = new Alarm(this, "JobApiServerErrors", new AlarmProps
        {
            Metric = api.MetricServerError(period),
            Threshold = 1, EvaluationPeriods = 1,
            ComparisonOperator = ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            TreatMissingData = TreatMissingData.NOT_BREACHING,
            AlarmDescription = "The job API answered 5xx: its functions' logs name the request id and the failure.",
        });
        serverErrors.AddAlarmAction(action);
    }

    /// <summary>Adds the alarms and the dashboard once the watched resources exist.</summary>
    public void Watch(MonitoringSettings settings, IStateMachine stateMachine, IQueue manifests, IQueue deadLetters, IQueue batchEventDeadLetters,
        Amazon.CDK.AWS.Batch.IJobQueue jobQueue, IReadOnlyList<Amazon.CDK.AWS.Lambda.IFunction> workflowFunctions,
        IReadOnlyList<Amazon.CDK.AWS.Lambda.IFunction> streamFunctions, int logRetentionDays)
    {
        var action = new SnsAction(Topic);
        Alarm Alarm(string name, IMetric metric, double threshold, string description)
        {
            var alarm = new Alarm(this, name, new AlarmProps
            {
                Metric = metric,
                Threshold = threshold,
                EvaluationPeriods = 1,
                ComparisonOperator = ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                TreatMissingData = TreatMissingData.NOT_BREACHING,
                AlarmDescription = description,
            });
            alarm.AddAlarmAction(action);
            return alarm;
        }

        var failedExecutions = stateMachine.MetricFailed(new MetricOptions { Period = Duration.Minutes(5), Statistic = "Sum" });
        var timedOutExecutions = stateMachine.MetricTimedOut(new MetricOptions { Period = Duration.Minutes(5), Statistic = "Sum" });
        Alarm("ExecutionFailed", failedExecutions, 1, "A nightly execution failed: see the Step Functions console.");
        Alarm("ExecutionTimedOut", timedOutExecutions, 1, "A nightly execution timed out.");

        var deadLetterDepth = deadLetters.MetricApproximateNumberOfMessagesVisible(new MetricOptions { Period = Duration.Minutes(5), Statistic = "Maximum" });
        Alarm("ManifestDeadLetters", deadLetterDepth, 1,
            "Manifests failed streaming registration 5 times; the night's Register step reconciles them, but look at why.");
        var batchEventDeadLetterDepth = batchEventDeadLetters.MetricApproximateNumberOfMessagesVisible(
            new MetricOptions { Period = Duration.Minutes(5), Statistic = "Maximum" });
        Alarm("BatchEventDeadLetters", batchEventDeadLetterDepth, 1,
            "Batch job state changes could not be recorded 5 times (or delivered by EventBridge): the operations record misses them; look at why.");

        // Batch emits an event per failed job (array children included). EventBridge cannot count,
        // so the events go to a log group whose metric filter counts them.
        var failedJobEvents = new LogGroup(this, "FailedBatchJobEvents", new Amazon.CDK.AWS.Logs.LogGroupProps
        {
            Retention = BatchCompute.RetentionFor(logRetentionDays),
            RemovalPolicy = RemovalPolicy.DESTROY,
        });
        new Rule(this, "BatchJobFailed", new RuleProps
        {
            Description = "Rapid Batch jobs that ended FAILED",
            EventPattern = new EventPattern
            {
                Source = ["aws.batch"],
                DetailType = ["Batch Job State Change"],
                Detail = new Dictionary<string, object>
                {
                    ["status"] = new[] { "FAILED" },
                    ["jobQueue"] = new[] { jobQueue.JobQueueArn },
                },
            },
            Targets = [new CloudWatchLogGroup(failedJobEvents)],
        });
        var failedJobs = new MetricFilter(this, "FailedBatchJobCount", new MetricFilterProps
        {
            LogGroup = failedJobEvents,
            FilterPattern = FilterPattern.AllEvents(),
            MetricNamespace = MetricNamespace,
            MetricName = FailedJobsMetric,
            MetricValue = "1",
            DefaultValue = 0,
        }).Metric(new MetricOptions { Period = Duration.Hours(1), Statistic = "Sum" });
        Alarm("BatchJobsFailed", failedJobs, settings.FailedJobsThreshold,
            $"At least {settings.FailedJobsThreshold} Rapid Batch jobs failed within an hour (after host-failure retries).");

        // SUM(METRICS()) adds the series that have a data point at each time. "e0 + e1 + ..." would
        // give no data point wherever any one function was idle (CloudWatch metric math aligns the
        // operands of +), so an idle function would hide another's errors. An alarm's expression may use
        // at most 10 metrics: one alarm for the state machine's functions, one for the queues' consumers.
        // The metrics' ids must differ between the two expressions: the dashboard graphs both.
        MathExpression ErrorSum(IReadOnlyList<Amazon.CDK.AWS.Lambda.IFunction> functions, string idPrefix, string label) => new(new MathExpressionProps
        {
            Expression = SumOfAllMetrics,
            UsingMetrics = functions.Select((f, i) => (i, f))
                .ToDictionary(p => $"{idPrefix}{p.i}", p => (IMetric)p.f.MetricErrors(new MetricOptions { Period = Duration.Minutes(5), Statistic = "Sum" })),
            Label = label,
            Period = Duration.Minutes(5),
        });
        var functionErrors = ErrorSum(workflowFunctions, "w", "Lambda errors (state machine)");
        var streamErrors = ErrorSum(streamFunctions, "q", "Lambda errors (queues)");
        Alarm("FunctionErrors", functionErrors, 1, "A Lambda of the nightly state machine raised an error.");
        Alarm("StreamFunctionErrors", streamErrors, 1, "A Lambda reading a queue (streaming registration, Batch state changes) raised an error.");
        var functionList = workflowFunctions.Concat(streamFunctions).ToList();

        new Dashboard(this, "Dashboard", new DashboardProps
        {
            DashboardName = DashboardName(Stack.Of(this)),
            DefaultInterval = Duration.Days(1),
            Widgets =
            [
                [
                    new GraphWidget(new GraphWidgetProps
                    {
                        Title = "Executions", Width = 8,
                        Left =
                        [
                            stateMachine.MetricStarted(new MetricOptions { Statistic = "Sum" }),
                            stateMachine.MetricSucceeded(new MetricOptions { Statistic = "Sum" }),
                            failedExecutions, timedOutExecutions,
                        ],
                    }),
                    new GraphWidget(new GraphWidgetProps
                    {
                        Title = "Execution time", Width = 8, Left = [stateMachine.MetricTime(new MetricOptions { Statistic = "Maximum" })],
                    }),
                    new GraphWidget(new GraphWidgetProps { Title = "Failed Batch jobs", Width = 8, Left = [failedJobs] }),
                ],
                [
                    new GraphWidget(new GraphWidgetProps
                    {
                        Title = "Streaming registration", Width = 12,
                        Left = [manifests.MetricApproximateNumberOfMessagesVisible(), manifests.MetricApproximateAgeOfOldestMessage()],
                        Right = [deadLetterDepth, batchEventDeadLetterDepth],
                    }),
                    new GraphWidget(new GraphWidgetProps
                    {
                        Title = "Lambda errors and duration", Width = 12,
                        Left = [functionErrors, streamErrors],
                        Right = functionList.Select(f => (IMetric)f.MetricDuration(new MetricOptions { Statistic = "Maximum" })).ToArray(),
                    }),
                ],
            ],
        });
    }
}
