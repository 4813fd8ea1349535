using MannLab.Runs;
using Npgsql;

namespace MannLab.Storage;

/// <summary>
/// The database MannLab uses: the server named by MANNLAB_DB (or --db), shared by every machine,
/// or else MannLab's own cluster under .mannlab/postgres, started on demand and stopped by the
/// process that started it. Opening applies the migrations.
/// </summary>
public sealed class Database : IDisposable
{
    private readonly EmbeddedPostgres? _embedded;
    private Action<string>? _log;

    private Database(string connectionString, EmbeddedPostgres? embedded)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Enlist = false };
        if (string.IsNullOrEmpty(builder.ApplicationName)) builder.ApplicationName = "mannlab";
        // A MannLab session idle inside a transaction is one whose client died or was cut off (a
        // partition drops packets, so the server never hears of it): its locks, the run's row
        // among them, would keep every other worker from taking the run over. MannLab's own
        // transactions never wait on their client for long; the server ends such a session.
        builder.Options = $"{builder.Options} -c idle_in_transaction_session_timeout={IdleInTransaction.TotalMilliseconds:0}".Trim();
        ConnectionString = builder.ConnectionString;
        _embedded = embedded;
        DataSource = NpgsqlDataSource.Create(ConnectionString);
    }

    public string ConnectionString { get; }
    public NpgsqlDataSource DataSource { get; }

    /// <summary>How long the server lets a MannLab session sit idle in a transaction before it ends it.</summary>
    public static readonly TimeSpan IdleInTransaction = TimeSpan.FromSeconds(10);

    /// <summary>The embedded cluster's folder, or null when a configured server is used.</summary>
    public string? EmbeddedFolder => _embedded?.DataDirectory;

    /// <summary>The connection string configured by <paramref name="option"/> or MANNLAB_DB, if any.</summary>
    public static string? Configured(string? option) =>
        option is { Length: > 0 } ? FromUri(option) : Environment.GetEnvironmentVariable(TrainingProtocol.DatabaseVariable) is { Length: > 0 } env ? FromUri(env) : null;

    /// <summary>postgresql://user:password@host:port/database (what psql and most tools take) as an Npgsql connection string.</summary>
    public static string FromUri(string text)
    {
        if (!text.StartsWith("postgres://") && !text.StartsWith("postgresql://")) return text;
        var uri = new System.Uri(text);
        var user = System.Uri.UnescapeDataString(uri.UserInfo.Split(':', 2)[0]);
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = uri.Host,
            Port = uri.IsDefaultPort || uri.Port < 0 ? 5432 : uri.Port,
            Database = System.Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/')) is { Length: > 0 } name ? name : user,
        };
        if (user.Length > 0) builder.Username = user;
        if (uri.UserInfo.Split(':', 2) is [_, var password]) builder.Password = System.Uri.UnescapeDataString(password);
        return builder.ConnectionString;
    }

    /// <summary>The connection as a postgresql:// URI, without the password (psql reads that from PGPASSWORD).</summary>
    public string AsUri() => UriOf(ConnectionString);

    /// <summary>An Npgsql connection string as a postgresql:// URI, without the password.</summary>
    public static string UriOf(string connectionString)
    {
        var b = new NpgsqlConnectionStringBuilder(connectionString);
        return $"postgresql://{System.Uri.EscapeDataString(b.Username ?? "")}@{b.Host}:{b.Port}/{System.Uri.EscapeDataString(b.Database ?? "")}";
    }

    /// <summary>The read-only role created by the migrations.</summary>
    public const string ReaderRole = "mannlab_reader";

    /// <summary>
    /// How dashboards and analysts read: $MANNLAB_READONLY_DB if set; else this server as the
    /// mannlab_reader role, when it exists and lets itself in without a password (as MannLab's own
    /// server does for local connections); else MannLab's own user, which the callers then
    /// confine to read-only transactions.
    /// </summary>
    public async Task<(string ConnectionString, bool AsReader)> ReadOnlyAsync()
    {
        if (Environment.GetEnvironmentVariable("MANNLAB_READONLY_DB") is { Length: > 0 } configured) return (FromUri(configured), true);
        var reader = new NpgsqlConnectionStringBuilder(ConnectionString)
            { Username = ReaderRole, Password = null, ApplicationName = "mannlab-reader", Pooling = false }.ConnectionString;
        try
        {
            await using var probe = new NpgsqlConnection(reader);
            await probe.OpenAsync();
            return (new NpgsqlConnectionStringBuilder(reader) { Pooling = true }.ConnectionString, true);
        }
        catch (NpgsqlException)
        {
            return (ConnectionString, false); // no such role, or it needs a password: MANNLAB_READONLY_DB
        }
    }

    /// <summary>Keeps the embedded server running after this process ends.</summary>
    public void KeepServerRunning() => _embedded?.KeepRunning();

    /// <summary>What another machine passes to <c>mannlab worker --db</c>, when MannLab's own server is shared; null otherwise.</summary>
    public string? SharedUri => _embedded?.SharedUri;

    /// <param name="shared">Share MannLab's own server with other machines (<c>up --listen</c>); a configured server is its owner's to share.</param>
    public static async Task<Database> OpenAsync(string? connectionString, string home, Action<string>? log = null, CancellationToken cancel = default,
        SharedServer? shared = null)
    {
        if (connectionString is not null && shared is not null)
            throw new ArgumentException("--listen shares MannLab's own PostgreSQL; a server given by --db or MANNLAB_DB is shared by configuring it (README, \"Several machines\")");
        var embedded = connectionString is null ? EmbeddedPostgres.Start(EmbeddedFolderFor(home, log), log, shared) : null;
        if (embedded is not null) OutsideClusters.NoteProject(embedded.DataDirectory, home);
        var database = new Database(connectionString ?? embedded!.ConnectionString, embedded) { _log = log };
        try
        {
            var applied = await Migrations.ApplyAsync(database.DataSource, cancel);
            if (applied.Count > 0) log?.Invoke($"applied migrations {string.Join(", ", applied)}");
            return database;
        }
        catch
        {
            database.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Where the embedded cluster of the project at <paramref name="home"/> lives: .mannlab/postgres,
    /// unless the server's user cannot reach it (a project under /root, run as root); then a folder
    /// of that project's own under /var/lib/mannlab (<see cref="OutsideClusters"/>).
    /// </summary>
    public static string EmbeddedFolderFor(string home, Action<string>? log = null)
    {
        var folder = Path.Combine(home, ".mannlab", "postgres");
        if (EmbeddedPostgres.ServerCanReach(folder)) return folder;
        var elsewhere = OutsideClusters.DataDirectoryFor(home);
        log?.Invoke($"the postgres user cannot enter {folder} (a folder above it is closed to other users); the cluster lives in {elsewhere}");
        return elsewhere;
    }

    public void Dispose()
    {
        DataSource.Dispose();
        _embedded?.Dispose();
        if (_embedded?.LeftRunning is > 0 and var others)
            _log?.Invoke($"left MannLab's PostgreSQL running: {others} other client(s) still use it (`mannlab db stop` stops it)");
    }
}
