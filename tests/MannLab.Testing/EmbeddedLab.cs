using System.Diagnostics;
using System.Text;
using MannLab.Storage;
using Npgsql;

namespace MannLab.Testing;

/// <summary>
/// A lab on MannLab's own embedded PostgreSQL, as `mannlab up` makes it in a fresh home, with
/// short timings: the processes a test starts in it (their output gathered in one place), and
/// ways to watch its database from outside. Everything is killed and removed at the end.
/// </summary>
public sealed class EmbeddedLab : IDisposable
{
    private readonly List<Process> _processes = [];
    private readonly StringBuilder _output = new();

    public EmbeddedLab(int leaseSeconds = JobsHarness.ShortLeaseSeconds) => Environment = new Dictionary<string, string>
    {
        ["MANNLAB_HOME"] = Home.Path,
        ["MANNLAB_DB"] = "", // MannLab's own server, under the home
        ["MANNLAB_LEASE_SECONDS"] = leaseSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["MANNLAB_HEARTBEAT_SECONDS"] = "1",
        ["MANNLAB_INVISIBILITY_SECONDS"] = "10",
        ["MANNLAB_RECOVERY_SECONDS"] = "1",
    };

    public TempFolder Home { get; } = new();
    public IReadOnlyDictionary<string, string> Environment { get; }

    /// <summary>The embedded cluster's folder.</summary>
    public string Cluster => Database.EmbeddedFolderFor(Home.Path);

    /// <summary>Everything the started processes printed so far.</summary>
    public string Output
    {
        get
        {
            lock (_output) return _output.ToString();
        }
    }

    public Mannlab.Result Run(params string[] args) => Mannlab.Run(Home.Path, Environment, args);

    public ProcessStartInfo StartInfo(params string[] args) => Mannlab.Start(Home.Path, Environment, args);

    /// <summary>Starts `mannlab ARGS` (or, with <paramref name="program"/>, any program), gathering its output; it is killed at the end if still running.</summary>
    public Process Start(string[] args, string[]? program = null) => Start(program is null ? StartInfo(args) : Command.StartInfo(program));

    private Process Start(ProcessStartInfo start)
    {
        start.RedirectStandardOutput = start.RedirectStandardError = true;
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (_output) _output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _processes.Add(process);
        return process;
    }

    /// <summary>
    /// Starts `mannlab ARGS` on another machine: inside <paramref name="machine"/>, with a home of
    /// its own (<paramref name="home"/>: its work folders and data cache), the lab's timings, and no
    /// database but what its arguments name. Its output joins <see cref="Output"/>.
    /// </summary>
    public Process StartIn(NetworkNamespace machine, string home, params string[] args)
    {
        var mannlab = Mannlab.Start(home, Environment, args);
        var start = machine.StartInfo([mannlab.FileName, .. mannlab.ArgumentList]);
        start.WorkingDirectory = home;
        foreach (var (name, value) in mannlab.Environment) start.Environment[name] = value;
        start.Environment["MANNLAB_HOME"] = home;
        start.Environment["MANNLAB_CACHE"] = Path.Combine(home, ".mannlab-cache");
        return Start(start);
    }

    /// <summary>
    /// Polls the database of <paramref name="up"/> until its one run is checkpointed and has
    /// recorded past the checkpoint, in the first half of a checkpoint interval: the database then
    /// holds metrics its checkpoint does not cover, and the next checkpoint is far off.
    /// </summary>
    public async Task<(string Run, long Checkpoint, int Port)> UntilStranded(Process up, int every, int batch)
    {
        (string, long, int)? found = null;
        await Until(async () =>
        {
            if (up.HasExited) throw new InvalidOperationException($"up exited with {up.ExitCode}:\n{Output}");
            if (ServerLock.Running(Cluster) is not { } server) return false;
            var text = $"Host=127.0.0.1;Port={server.Port};Username={EmbeddedPostgres.User};Database={EmbeddedPostgres.Database};Pooling=false";
            try
            {
                await using var connection = new NpgsqlConnection(text);
                await connection.OpenAsync();
                await using var command = new NpgsqlCommand(
                    "select r.id, c.episode, r.episodes_done, r.episodes_total from mannlab.runs r join mannlab.checkpoints c on c.run_id = r.id", connection);
                await using var rows = await command.ExecuteReaderAsync();
                if (!await rows.ReadAsync()) return false;
                var (run, checkpoint, done, total) = (rows.GetString(0), rows.GetInt64(1), rows.GetInt64(2), rows.GetInt64(3));
                if (checkpoint >= total) throw new InvalidOperationException("the run finished too soon: give it more episodes");
                if (done <= checkpoint + 10 * batch || done >= checkpoint + every / 2) return false;
                found = (run, checkpoint, server.Port);
                return true;
            }
            catch (NpgsqlException)
            {
                return false; // not migrated yet
            }
        }, "the run to checkpoint and record past its checkpoint");
        return found!.Value;
    }

    /// <summary>Polls until <paramref name="done"/>; the limit only keeps a broken build from hanging CI.</summary>
    public async Task Until(Func<Task<bool>> done, string what)
    {
        var limit = DateTime.UtcNow.AddMinutes(4);
        while (!await done())
        {
            if (DateTime.UtcNow > limit) throw new TimeoutException($"still waiting for {what}:\n{Output}");
            await Task.Delay(100);
        }
    }

    public Task Until(Func<bool> done, string what) => Until(() => Task.FromResult(done()), what);

    /// <summary>
    /// Waits until <paramref name="process"/> exits and its output is all read: <c>HasExited</c> turns
    /// true before the last lines it printed reach <see cref="Output"/>.
    /// </summary>
    public async Task Exited(Process process, string what)
    {
        using var bound = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        try
        {
            await process.WaitForExitAsync(bound.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"still waiting for {what}:\n{Output}");
        }
    }

    public static async Task<List<T>> Column<T>(NpgsqlDataSource db, string sql)
    {
        await using var command = db.CreateCommand(sql);
        await using var rows = await command.ExecuteReaderAsync();
        var values = new List<T>();
        while (await rows.ReadAsync()) values.Add(rows.GetFieldValue<T>(0));
        return values;
    }

    public void Dispose()
    {
        foreach (var process in _processes)
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            process.WaitForExit();
            process.Dispose();
        }
        // A server left by a failed test: stop it, so the folder can go.
        EmbeddedPostgres.Stop(Cluster);
        Home.Dispose();
    }
}
