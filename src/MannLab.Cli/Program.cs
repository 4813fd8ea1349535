using MannLab.Cli;

return Commands.Root().Parse(args).Invoke();
