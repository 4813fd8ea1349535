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
        DateTime? since = null;
        while (true)
        {
            try
            {
                var result = await action();
                if (since is { } s) log?.Invoke($"the database is back after {(DateTime.UtcNow - s).TotalSeconds:0} s: {what} done");
                return result;
            }
            catch (Exception e) when (Is(e))
            {
                if (since is null) log?.Invoke($"the database is unreachable ({e.Message}); {what}: trying again every {every.TotalSeconds:0} s");
                since ??= DateTime.UtcNow;
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

/// <summary>The run's lease is another worker's now: whatever this process still holds is void, and it must stop.</summary>
public sealed class LeaseLostException(string message) : Exception(message);
