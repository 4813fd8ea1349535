using System.Collections.Concurrent;
using Hangfire.Logging;

namespace MannLab.Jobs.Tests;

/// <summary>
/// What Hangfire logs at warning level or above, by logger. A collection fixture, so that it is in
/// place before any Hangfire type takes its logger (each keeps the one it got first). Hangfire
/// retries a failed schema preparation and only logs the failure, so this is where one shows.
/// </summary>
public sealed class HangfireLog : ILogProvider
{
    public HangfireLog() => LogProvider.SetCurrentLogProvider(this);

    public ConcurrentQueue<(string Logger, LogLevel Level, Exception? Exception)> Entries { get; } = new();

    public ILog GetLogger(string name) => new Recorder(this, name);

    private sealed class Recorder(HangfireLog log, string name) : ILog
    {
        public bool Log(LogLevel logLevel, Func<string>? messageFunc, Exception? exception = null)
        {
            if (logLevel < LogLevel.Warn) return false;
            if (messageFunc is not null) log.Entries.Enqueue((name, logLevel, exception));
            return true;
        }
    }
}
