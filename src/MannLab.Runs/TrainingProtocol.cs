namespace MannLab.Runs;

/// <summary>
/// What a worker and the training process it starts (<c>mannlab _train</c>) tell each other besides
/// the exit code (<see cref="TrainingExitCode"/>): why a run failed, and whose database
/// connections are the training's.
/// </summary>
public static class TrainingProtocol
{
    /// <summary>How the process reports why a run failed: its last line on stderr starts so, and its worker records the rest.</summary>
    public const string ErrorPrefix = "error: ";

    /// <summary>The PostgreSQL application name of training processes: a run's writes can be told from its worker's.</summary>
    public const string ApplicationName = "mannlab _train";
}
