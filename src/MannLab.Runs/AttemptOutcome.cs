namespace MannLab.Runs;

/// <summary>
/// How one attempt at a run ended (mannlab.run_attempts.outcome): the one list of them. The
/// database's check holds the same set; a test keeps the two equal. Constants, as
/// <see cref="RunStatus"/> is, for the same reasons.
/// </summary>
public static class AttemptOutcome
{
    /// <summary>Trained to the last episode.</summary>
    public const string Succeeded = "succeeded";

    /// <summary>The run failed for a reason its training process reported.</summary>
    public const string Failed = "failed";

    public const string Cancelled = "cancelled";

    /// <summary>Stopped at a checkpoint: its worker stopped, or the database was away for longer than the lease.</summary>
    public const string Interrupted = "interrupted";

    /// <summary>The training process died without saying why; too many of these fail the run.</summary>
    public const string Crashed = "crashed";

    /// <summary>Its worker stopped renewing the lease (the machine died or was cut off), and another took the run.</summary>
    public const string Lost = "lost";

    public static readonly IReadOnlyList<string> All = [Succeeded, Failed, Cancelled, Interrupted, Crashed, Lost];

    /// <summary>Outcomes as SQL literals, as <see cref="RunStatus.Sql"/> spells statuses.</summary>
    public static string Sql(params IEnumerable<string> outcomes) => SqlLiterals.Of(outcomes, All, "an attempt outcome");
}
