using Rapid.Cli.Commands;

return await RapidCommandLine.Create().Parse(args).InvokeAsync();
