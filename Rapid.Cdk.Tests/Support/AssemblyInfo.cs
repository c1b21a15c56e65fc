// The jsii runtime (one Node process behind every CDK call) is not safe to start or drive from
// parallel test collections, so this assembly runs its tests one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
