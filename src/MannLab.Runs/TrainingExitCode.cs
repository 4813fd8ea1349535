namespace MannLab.Runs;

/// <summary>
/// Exit codes of a training process: <c>mannlab train</c>, and the <c>mannlab _train</c> child a
/// worker supervises, which reads the child's code to learn how the run ended. Any other code
/// means the process died without saying: 128 + N when signal N killed it.
/// </summary>
public static class TrainingExitCode
{
    /// <summary>Trained to the spec's last episode; the results are recorded.</summary>
    public const int Completed = 0;

    /// <summary>Training did not start: the command line, the spec or the process's settings are wrong (stderr says which).</summary>
    public const int NotStarted = 1;

    /// <summary>The run failed for a reason it reported on stderr: a diverged loss, data or a stored spec that cannot be read.</summary>
    public const int Failed = 2;

    /// <summary>Stopped on request at a checkpoint, which the same run resumes from; 128 + SIGINT, as a shell reports Ctrl-C.</summary>
    public const int Interrupted = 130;
}
