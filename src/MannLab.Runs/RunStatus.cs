namespace MannLab.Runs;

/// <summary>
/// A run's status: the one list of them, what each means to the job system, and how SQL spells a
/// set of them. The database's check on mannlab.runs.status (db/migrations) holds the same set; a
/// test keeps the two equal.
/// <para>
/// Constants, not an enum: the status is text in the database and in every query's results, in
/// the CLI's --status option and the pages' filter, and string constants go into all of them, and
/// into patterns and switches, as they are. An enum would be parsed and printed at each of those
/// borders and catch nothing the database's check does not.
/// </para>
/// </summary>
public static class RunStatus
{
    /// <summary>Registered, with or without a queue job; a worker will take it.</summary>
    public const string Queued = "queued";

    /// <summary>Its dataset is missing where its worker looks; it is queued again by itself once the data is there.</summary>
    public const string Waiting = "waiting";

    /// <summary>A worker holds its lease and trains it.</summary>
    public const string Running = "running";

    /// <summary>Stopped at a checkpoint (its worker stopped, or its training process died); it resumes from there.</summary>
    public const string Interrupted = "interrupted";

    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    /// <summary>Every status, in the order a run goes through them.</summary>
    public static readonly IReadOnlyList<string> All = [Queued, Waiting, Running, Interrupted, Succeeded, Failed, Cancelled];

    /// <summary>Nothing will happen to the run unless someone retries it.</summary>
    public static readonly IReadOnlyList<string> Finished = [Succeeded, Failed, Cancelled];

    /// <summary>What <c>mannlab retry</c> (and the run page's retry, and a requeue in the Hangfire dashboard) queues again.</summary>
    public static readonly IReadOnlyList<string> Retryable = [Failed, Cancelled, Interrupted];

    /// <summary>The status a training session's end leaves a run in, as `mannlab train`'s run record writes it.</summary>
    public static string After(Outcome outcome) => outcome switch
    {
        Outcome.Completed => Succeeded,
        Outcome.Interrupted => Interrupted,
        Outcome.Failed => Failed,
        _ => throw new ArgumentOutOfRangeException(nameof(outcome)),
    };

    public static bool IsFinished(string status) => Finished.Contains(status);

    public static bool IsRetryable(string status) => Retryable.Contains(status);

    /// <summary>Statuses as SQL literals, comma-separated, for <c>status = ...</c> and <c>status in (...)</c>: <c>'failed', 'cancelled'</c>.</summary>
    public static string Sql(params IEnumerable<string> statuses) => SqlLiterals.Of(statuses, All, "a run status");
}
