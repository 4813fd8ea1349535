using System.Diagnostics;
using MannLab.Jobs;
using MannLab.Spec;
using Npgsql;
using Task = System.Threading.Tasks.Task;

namespace MannLab.Testing;

/// <summary>
/// One test's lab: a database of its own on the shared cluster, a MannLab home (work folder,
/// data cache) in a temporary folder, and the job system with short leases and timeouts, so that
/// crashes are noticed in seconds rather than minutes.
/// </summary>
public sealed class JobsHarness : IDisposable
{
    private readonly List<Process> _processes = [];
    private readonly List<StreamWriter> _logs = [];

    /// <summary>
    /// The tests' lease: short, so a crash is noticed in seconds; long enough that a worker, which
    /// stops a run it has not renewed for the lease less a heartbeat, does not stop one for a
    /// renewal that a loaded 2-core machine answered late (a 4 s lease did, now and then).
    /// </summary>
    public const int ShortLeaseSeconds = 8;

    /// <param name="leaseSeconds">
    /// <see cref="ShortLeaseSeconds"/> by default, for tests of crashes; a test that only needs a run
    /// to keep running passes more.
    /// </param>
    public JobsHarness(PostgresFixture pg, int leaseSeconds = ShortLeaseSeconds)
    {
        ConnectionString = pg.NewDatabase();
        Settings = new JobSettings(Lease: TimeSpan.FromSeconds(leaseSeconds), Heartbeat: TimeSpan.FromSeconds(1), InvisibilityTimeout: TimeSpan.FromSeconds(10),
            RecoveryInterval: TimeSpan.FromSeconds(1), WorkDirectory: Home.Sub("work"));
        Environment = new Dictionary<string, string>
        {
            ["MANNLAB_DB"] = ConnectionString,
            ["MANNLAB_HOME"] = Home.Path,
            ["MANNLAB_LEASE_SECONDS"] = $"{leaseSeconds}",
            ["MANNLAB_HEARTBEAT_SECONDS"] = "1",
            ["MANNLAB_INVISIBILITY_SECONDS"] = "10",
            ["MANNLAB_RECOVERY_SECONDS"] = "1",
            ["MANNLAB_OMNIGLOT"] = "",
        };
        Jobs = JobSystem.OpenAsync(ConnectionString, Home.Path, settings: Settings).GetAwaiter().GetResult();
        Db = Jobs.Database.DataSource;
    }

    public TempFolder Home { get; } = new();
    public string ConnectionString { get; }
    public JobSettings Settings { get; }
    public JobSystem Jobs { get; }
    public NpgsqlDataSource Db { get; }

    /// <summary>
    /// What a mannlab process of this lab gets: the database, the home, the short timings, and no
    /// Omniglot unless a test says where (set MANNLAB_OMNIGLOT here before starting the process).
    /// Workers started in the test host (<c>Jobs.StartWorkers</c>) see the host's environment instead.
    /// </summary>
    public Dictionary<string, string> Environment { get; }

    public Mannlab.Result Run(params string[] args) => Mannlab.Run(Home.Path, Environment, args);

    /// <summary>Starts a long-lived mannlab process (a worker); it is killed at the end of the test if still running.</summary>
    public Process Start(params string[] args)
    {
        var process = Process.Start(Mannlab.Start(Home.Path, Environment, args))!;
        var log = new StreamWriter(Home.Sub($"{args[0]}-{process.Id}.log")) { AutoFlush = true };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _processes.Add(process);
        _logs.Add(log);
        return process;
    }

    /// <summary>Writes a spec and queues it, as `mannlab submit` does.</summary>
    public async Task<ExperimentFile> Submit(string relative, string yaml)
    {
        var file = Home.Write(relative, yaml);
        var experiment = Experiments.load(file).ResultValue;
        await Jobs.Queue.RegisterAsync(experiment);
        await Jobs.Queue.DispatchAsync();
        return experiment;
    }

    public async Task<T?> Scalar<T>(string sql, params (string Name, object Value)[] parameters)
    {
        await using var command = Db.CreateCommand(sql);
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        var result = await command.ExecuteScalarAsync();
        return result is DBNull or null ? default : (T)result;
    }

    public async Task<List<T>> Column<T>(string sql, params (string Name, object Value)[] parameters)
    {
        await using var command = Db.CreateCommand(sql);
        foreach (var (name, value) in parameters) command.Parameters.AddWithValue(name, value);
        await using var rows = await command.ExecuteReaderAsync();
        var list = new List<T>();
        while (await rows.ReadAsync()) list.Add(rows.GetFieldValue<T>(0));
        return list;
    }

    /// <summary>
    /// Polls until <paramref name="done"/> holds. The limit only keeps a broken build from hanging
    /// CI; it is far above what the work needs, and the failure says what state things were in.
    /// </summary>
    public async Task Until(Func<Task<bool>> done, string what, int minutes = 4)
    {
        var limit = DateTime.UtcNow.AddMinutes(minutes);
        while (!await done())
        {
            if (DateTime.UtcNow > limit)
                throw new TimeoutException($"still waiting for {what}; runs: " +
                    string.Join("; ", (await Jobs.Queries.ListAsync()).Select(r => $"{r.Id} {r.Status} {r.EpisodesDone}/{r.EpisodesTotal} {r.Error}")) +
                    string.Concat(Directory.GetFiles(Home.Path, "*.log").Select(f => $"\n--- {Path.GetFileName(f)}:\n" + ReadShared(f))));
            await Task.Delay(250);
        }
    }

    private static string ReadShared(string file)
    {
        using var reader = new StreamReader(new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
        var text = reader.ReadToEnd();
        return text.Length > 4000 ? text[^4000..] : text;
    }

    /// <summary>All <paramref name="count"/> runs finished, and their workers have closed their attempts.</summary>
    public async Task<bool> AllFinished(int count)
    {
        var runs = await Jobs.Queries.ListAsync();
        return runs.Count == count && runs.All(r => r.Finished) &&
               await Scalar<long>("select count(*) from mannlab.run_attempts where finished_at is null") == 0;
    }

    public void Dispose()
    {
        foreach (var process in _processes)
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            process.WaitForExit(); // and for its output to be read: only then may its log close
            process.Dispose();
        }
        foreach (var log in _logs) log.Dispose();
        Jobs.Dispose();
        Home.Dispose();
    }

    /// <summary>The small spec's dataset: synthetic glyphs.</summary>
    public const string Synthetic = "{source: synthetic, image_size: 12, synthetic: {alphabets: 6, characters: 10, drawers: 6}, augment: {translate: 0, rotate: 0}}";

    /// <summary>The small spec's dataset on Omniglot, from <paramref name="path"/> (null: wherever the worker looks).</summary>
    public static string Omniglot(string? path = null) =>
        $"{{source: omniglot, image_size: 12, augment: {{translate: 0, rotate: 0}}{(path is null ? "" : $", path: '{path}'")}}}";

    /// <summary>A small, fast spec: an LSTM on 3-way episodes of 12x12 images, synthetic unless <paramref name="dataset"/> says otherwise.</summary>
    public static string Spec(string name, int episodes, int evalEvery, int checkpointEvery, string extra = "", string dataset = Synthetic) => $"""
        name: {name}
        dataset: {dataset}
        task: {"{classes: 3, instances: 4}"}
        model: {"{kind: lstm, hidden: 16}"}
        training: {"{"}optimizer: adam, lr: 3e-3, episodes: {episodes}, batch_size: 16, seed: 1{"}"}
        evaluation: {"{"}every: {evalEvery}, episodes: 32, instances: [1, 2]{"}"}
        checkpoint: {"{"}every: {checkpointEvery}{"}"}
        {extra}
        """;
}
