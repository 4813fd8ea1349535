namespace MannLab.Jobs;

/// <summary>
/// The job system's timings. The lease must outlive several heartbeats; the queue's invisibility
/// timeout only matters when a worker dies (the sliding timeout keeps a live job's claim fresh),
/// and it bounds how long the queue waits before handing a dead worker's job out again. Tests
/// shorten both through the environment.
/// </summary>
public sealed record JobSettings(TimeSpan Lease, TimeSpan Heartbeat, TimeSpan InvisibilityTimeout, TimeSpan RecoveryInterval, string WorkDirectory)
{
    public static JobSettings FromEnvironment(string home) => new(
        Lease: Seconds("MANNLAB_LEASE_SECONDS", 60),
        Heartbeat: Seconds("MANNLAB_HEARTBEAT_SECONDS", 10),
        InvisibilityTimeout: Seconds("MANNLAB_INVISIBILITY_SECONDS", 300),
        RecoveryInterval: Seconds("MANNLAB_RECOVERY_SECONDS", 15),
        WorkDirectory: Path.Combine(home, ".mannlab", "work"));

    private static TimeSpan Seconds(string variable, double fallback) =>
        TimeSpan.FromSeconds(Environment.GetEnvironmentVariable(variable) is { Length: > 0 } text
            ? double.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var value) && value > 0
                ? value
                : throw new ArgumentException($"{variable}={text}: expected a positive number of seconds")
            : fallback);

    /// <summary>Where a run's checkpoint and training logs live on this machine.</summary>
    public string RunFolder(string runId) => Path.Combine(WorkDirectory, runId);
}
