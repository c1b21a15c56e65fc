// Placeholder entry point so the Exe project builds; the pipeline-jobs helper replaces this file
// with the container entry point. Exit code 64 (EX_USAGE) says "nothing to run here yet".
Console.Error.WriteLine("rapid-pipeline: the container entry point is not built yet");
return 64;
