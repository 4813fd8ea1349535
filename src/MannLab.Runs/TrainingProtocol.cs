namespace MannLab.Runs;

/// <summary>
/// How a worker and the training process it starts for a run talk, stated once. The worker runs
/// <c>mannlab _train RUN --worker NAME --checkpoint FILE</c> (<see cref="Arguments"/>) with the
/// database's connection string in <see cref="DatabaseVariable"/>. The process trains until its
/// standard input closes: that is how its worker asks it to checkpoint and stop, and how it learns
/// that its worker died; SIGTERM stops it the same way, and a terminal's Ctrl-C is left to the
/// worker. It ends with a <see cref="TrainingExitCode"/>, saying why a run failed on stderr
/// (<see cref="ErrorPrefix"/>). The worker alone records the attempt and the run's status from that.
/// </summary>
public static class TrainingProtocol
{
    /// <summary>The hidden command that trains one run for a worker.</summary>
    public const string Command = "_train";

    public const string WorkerOption = "--worker";

    public const string CheckpointOption = "--checkpoint";

    /// <summary>The training process's command line after the program: the run, the worker it trains for, and where its checkpoint file goes.</summary>
    public static IReadOnlyList<string> Arguments(string runId, string worker, string checkpoint) =>
        [Command, runId, WorkerOption, worker, CheckpointOption, checkpoint];

    /// <summary>Where every command finds its database's connection string, and so where a training process finds its worker's.</summary>
    public const string DatabaseVariable = "MANNLAB_DB";

    /// <summary>How the process reports why a run failed: its last line on stderr starts so, and its worker records the rest.</summary>
    public const string ErrorPrefix = "error: ";

    /// <summary>The PostgreSQL application name of training processes: a run's writes can be told from its worker's.</summary>
    public const string ApplicationName = "mannlab " + Command;
}
