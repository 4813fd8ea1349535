namespace MannLab.Runs;

/// <summary>
/// A run's status: the one list of them, and what each means to the job system. The database's
/// check on mannlab.runs.status (db/migrations) holds the same set; a test keeps the two equal.
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
    public static bool IsFinished(string status) => status is Succeeded or Failed or Cancelled;

    /// <summary>What <c>mannlab retry</c> (and the run page's retry, and a requeue in the Hangfire dashboard) queues again.</summary>
    public static bool IsRetryable(string status) => status is Failed or Cancelled or Interrupted;
}
