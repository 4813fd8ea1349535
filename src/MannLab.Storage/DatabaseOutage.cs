using Npgsql;

namespace MannLab.Storage;

/// <summary>
/// What counts as the database being away for a while (stopped, restarting, unreachable) rather
/// than a write being wrong: the one test every part that waits out an outage uses. A full disk is
/// not an outage: it lasts until someone acts, and the run fails saying so.
/// </summary>
public static class DatabaseOutage
{
    public static bool Is(Exception e) => e switch
    {
        PostgresException { SqlState: PostgresErrorCodes.DiskFull } => false,
        // Npgsql does not count a server shutting down as transient (npgsql#5073): for a lab whose
        // database restarts, it is the commonest outage of all.
        PostgresException p => p.IsTransient || p.SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown
            or PostgresErrorCodes.CannotConnectNow || p.SqlState.StartsWith("08", StringComparison.Ordinal),
        NpgsqlException n => n.IsTransient,
        _ => false,
    };

    /// <summary>
    /// Runs <paramref name="action"/> until it gets through an outage, trying again every
    /// <paramref name="every"/>; says once that it waits, and once that the database is back.
    /// </summary>
    public static async Task<T> WaitOutAsync<T>(Func<Task<T>> action, TimeSpan every, Action<string>? log, string what, CancellationToken cancel)
    {
        var outage = new OutageReport(log);
        while (true)
        {
            try
            {
                var result = await action();
                outage.Back($": {what} done");
                return result;
            }
            catch (Exception e) when (Is(e))
            {
                outage.Unreachable(e, $"; {what}: trying again every {every.TotalSeconds:0} s");
            }
            await Task.Delay(every, cancel);
        }
    }

    public static Task WaitOutAsync(Func<Task> action, TimeSpan every, Action<string>? log, string what, CancellationToken cancel) =>
        WaitOutAsync(async () =>
        {
            await action();
            return true;
        }, every, log, what, cancel);
}

/// <summary>
/// Says once that the database is unreachable, and once that it is back (with how long it was
/// away), however many calls fail in between: the one way every part reports an outage.
/// </summary>
public sealed class OutageReport(Action<string>? log)
{
    private DateTime? _since;

    /// <param name="consequence">What follows for the caller, with its separator ("; waiting ...").</param>
    public void Unreachable(Exception e, string consequence)
    {
        if (_since is null) log?.Invoke($"the database is unreachable ({e.Message}){consequence}");
        _since ??= DateTime.UtcNow;
    }

    public void Back(string consequence = "")
    {
        if (_since is { } since) log?.Invoke($"the database is back after {(DateTime.UtcNow - since).TotalSeconds:0} s{consequence}");
        _since = null;
    }
}

/// <summary>The run's lease is another worker's now: whatever this process still holds is void, and it must stop.</summary>
public sealed class LeaseLostException(string message) : Exception(message);
