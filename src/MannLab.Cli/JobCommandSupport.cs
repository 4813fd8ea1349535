using System.CommandLine;
using System.Runtime.InteropServices;
using MannLab.Data;
using MannLab.Jobs;
using MannLab.Storage;

namespace MannLab.Cli;

/// <summary>What the database-backed commands share: the --db option, opening the job system, and stopping on Ctrl-C or SIGTERM.</summary>
public static class JobCommandSupport
{
    public static Option<string?> DbOption() => new("--db")
    {
        Description = "PostgreSQL connection string of a shared server (default: $MANNLAB_DB, else MannLab's own server under .mannlab/)",
    };

    /// <summary>Opens the job system, or prints why it can't and returns null.</summary>
    public static JobSystem? Open(string? db, Action<string>? log = null, SharedServer? shared = null)
    {
        try
        {
            return JobSystem.OpenAsync(Database.Configured(db), MannLabHome.Path, log, shared: shared).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is InvalidOperationException or Npgsql.NpgsqlException or ArgumentException or IOException)
        {
            Console.Error.WriteLine($"error: cannot open the database: {e.Message}");
            return null;
        }
    }

    /// <summary>
    /// The run ids that <paramref name="given"/> (ids, or unique prefixes of 4 characters or more)
    /// name, all resolved before any is used so a typo acts on nothing; prints the first problem
    /// and returns null.
    /// </summary>
    public static IReadOnlyList<string>? ResolveIds(JobSystem jobs, IEnumerable<string> given)
    {
        var ids = new List<string>();
        foreach (var id in given)
        {
            var matches = jobs.Queries.MatchIdsAsync(id).GetAwaiter().GetResult();
            if (matches.Contains(id) || matches.Count == 1 && id.Length >= 4)
            {
                ids.Add(matches.Count == 1 ? matches[0] : id);
                continue;
            }
            Console.Error.WriteLine(matches.Count == 0 ? $"error: no run {id}" :
                id.Length < 4 ? $"error: '{id}' is too short to name a run; give at least 4 characters" :
                $"error: '{id}' could be any of {string.Join(", ", matches)}");
            return null;
        }
        return ids;
    }

    /// <summary>A token cancelled by Ctrl-C or SIGTERM; a second Ctrl-C is left to its default (ends the process).</summary>
    public sealed class StopSignal : IDisposable
    {
        private readonly CancellationTokenSource _source = new();
        private readonly PosixSignalRegistration _terminate;
        private readonly ConsoleCancelEventHandler _interrupt;

        public StopSignal(string message)
        {
            _interrupt = (_, e) =>
            {
                if (_source.IsCancellationRequested) return; // a second Ctrl-C ends the process
                e.Cancel = true;
                Console.Error.WriteLine("\n" + message);
                _source.Cancel();
            };
            Console.CancelKeyPress += _interrupt;
            _terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
            {
                c.Cancel = true;
                _source.Cancel();
            });
        }

        public CancellationToken Token => _source.Token;

        public void Dispose()
        {
            Console.CancelKeyPress -= _interrupt;
            _terminate.Dispose();
            _source.Dispose();
        }
    }

    public static string Timestamped(string message) => $"{DateTime.Now:HH:mm:ss} {message}";
}
