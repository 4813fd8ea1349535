using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace MannLab.Storage;

/// <summary>
/// MannLab's own PostgreSQL cluster, for one machine running everything: created with initdb on
/// first use under a folder of its own, started with pg_ctl on a free port on 127.0.0.1 and on a
/// unix socket, reused when already running, and stopped by whoever started it. initdb refuses to
/// run as root, so under root the server runs as the postgres user. Shared (<see cref="SharedServer"/>),
/// it also listens on an address other machines reach, for MannLab's role by password.
/// </summary>
public sealed class EmbeddedPostgres : IDisposable
{
    public const string User = "mannlab", Database = "mannlab";

    private readonly string _bin;
    private bool _startedHere;

    private EmbeddedPostgres(string dataDirectory, string bin, int port, bool startedHere)
    {
        DataDirectory = dataDirectory;
        _bin = bin;
        Port = port;
        _startedHere = startedHere;
    }

    public string DataDirectory { get; }
    public int Port { get; }

    public string ConnectionString => $"Host=127.0.0.1;Port={Port};Username={User};Database={Database};Pooling=true";

    private static bool IsRoot => Environment.UserName == "root";

    /// <summary>The newest installed server binaries: $MANNLAB_PG_BIN, /usr/lib/postgresql/N/bin, or initdb on the PATH.</summary>
    public static string FindBinaries()
    {
        if (Environment.GetEnvironmentVariable("MANNLAB_PG_BIN") is { Length: > 0 } configured) return configured;
        var debian = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Select(d => (Dir: Path.Combine(d, "bin"), Version: int.TryParse(Path.GetFileName(d), out var v) ? v : 0))
                .Where(x => File.Exists(Path.Combine(x.Dir, "initdb"))).OrderByDescending(x => x.Version).Select(x => x.Dir).FirstOrDefault()
            : null;
        if (debian is not null) return debian;
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':'))
            if (File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl"))) return dir;
        throw new InvalidOperationException("PostgreSQL server binaries (initdb, pg_ctl) were not found: install PostgreSQL 14 or newer " +
                                            "(Debian: apt-get install postgresql) or set MANNLAB_PG_BIN, or configure MANNLAB_DB to use an existing server");
    }

    /// <summary>What another machine passes to <c>mannlab worker --db</c>, when the server is shared; null otherwise.</summary>
    public string? SharedUri { get; private set; }

    /// <summary>
    /// Starts the cluster in <paramref name="dataDirectory"/> (creating it on first use), or attaches
    /// to it if it runs already; <paramref name="shared"/>: listening for other machines too.
    /// </summary>
    public static EmbeddedPostgres Start(string dataDirectory, Action<string>? log = null, SharedServer? shared = null)
    {
        dataDirectory = Path.GetFullPath(dataDirectory);
        var bin = FindBinaries();
        if (!File.Exists(Path.Combine(dataDirectory, "PG_VERSION")))
        {
            log?.Invoke($"creating a PostgreSQL cluster in {dataDirectory}");
            Directory.CreateDirectory(dataDirectory);
            Own(dataDirectory);
            Run(bin, "initdb", ["-D", dataDirectory, "-U", User, "--auth=trust", "-E", "UTF8", "--locale=C"]);
        }
        if (ServerLock.Running(dataDirectory) is { } running)
        {
            var hba = Path.Combine(dataDirectory, SharedServer.HbaFile);
            if (shared is not null && !shared.IsHowRunning(File.ReadAllText(Path.Combine(dataDirectory, "postmaster.opts")), running.Port,
                    File.Exists(hba) ? File.ReadAllText(hba) : null, User))
                throw new InvalidOperationException($"MannLab's PostgreSQL already runs on port {running.Port}, not listening on {shared.Address}:{shared.Port} " +
                                                    $"for clients from {shared.Allowed}: another mannlab process started it; stop that one (or `mannlab db stop`), then start this again");
            log?.Invoke($"using the PostgreSQL already running on port {running.Port}");
            return new EmbeddedPostgres(dataDirectory, bin, running.Port, startedHere: false).WithDatabase().SharedAs(shared);
        }
        if (ServerLock.ClearStale(dataDirectory))
            log?.Invoke("PostgreSQL did not stop cleanly last time (killed, or the machine died): removed its stale postmaster.pid; " +
                        "it recovers as it starts");
        // A new port every start: the last one may have been taken meanwhile. Whoever connects
        // learns it from postmaster.pid (Start), or from the connection string a worker passes on.
        var port = shared?.Port ?? FreePort();
        var listening = "-c listen_addresses=127.0.0.1";
        if (shared is not null)
        {
            // Shared, the port is the one other machines were told: it must stay the same.
            if (!Free(shared.Address, port) || !Free(IPAddress.Loopback, port))
                throw new InvalidOperationException($"port {port} is in use on {shared.Address} or 127.0.0.1: give another with --listen {shared.Address}:PORT");
            var hba = Path.Combine(dataDirectory, SharedServer.HbaFile);
            File.WriteAllText(hba, shared.HbaRules(User));
            Own(hba);
            listening = shared.ServerOptions(hba);
        }
        var logFile = Path.Combine(dataDirectory, "server.log");
        Run(bin, "pg_ctl", ["-D", dataDirectory, "-l", logFile, "-w", "-t", "60", "-o",
            $"-p {port} {listening} -c unix_socket_directories='{dataDirectory}'", "start"]);
        log?.Invoke($"started PostgreSQL on 127.0.0.1:{port}" + (shared is null ? "" : $" and {shared.Address}:{port} (clients from {shared.Allowed}, by password)") +
                    $" (socket in {dataDirectory})");
        return new EmbeddedPostgres(dataDirectory, bin, port, startedHere: true).WithDatabase().SharedAs(shared);
    }

    /// <summary>
    /// Sets MannLab's role's password (hashed with SCRAM by the server) to the one kept beside the
    /// cluster, over the trusted local connection: only the shared address asks for it.
    /// </summary>
    private EmbeddedPostgres SharedAs(SharedServer? shared)
    {
        if (shared is null) return this;
        var password = SharedServer.Password(Path.Combine(Path.GetDirectoryName(DataDirectory)!, "postgres-password"));
        using var connection = new Npgsql.NpgsqlConnection(new Npgsql.NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false }.ConnectionString);
        connection.Open();
        using var command = new Npgsql.NpgsqlCommand($"alter role {User} password '{password}'", connection);
        command.ExecuteNonQuery();
        SharedUri = shared.UriFor(User, Database, password);
        return this;
    }

    /// <summary>Whether nothing listens on <paramref name="port"/> at <paramref name="address"/> (binding a socket, nothing sent).</summary>
    private static bool Free(IPAddress address, int port)
    {
        try
        {
            var listener = new TcpListener(address, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private EmbeddedPostgres WithDatabase()
    {
        var exists = Run(_bin, "psql", ["-h", "127.0.0.1", "-p", Port.ToString(), "-U", User, "-d", "postgres", "-tAc",
            $"select 1 from pg_database where datname = '{Database}'"]).Trim() == "1";
        if (!exists) Run(_bin, "createdb", ["-h", "127.0.0.1", "-p", Port.ToString(), "-U", User, Database]);
        return this;
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>
    /// Whether the server (under root: the postgres user) can reach <paramref name="dataDirectory"/>:
    /// a project under /root, closed to other users, cannot hold the cluster.
    /// </summary>
    public static bool ServerCanReach(string dataDirectory)
    {
        if (!IsRoot) return true;
        var existing = new DirectoryInfo(Path.GetFullPath(dataDirectory));
        while (!existing.Exists && existing.Parent is not null) existing = existing.Parent;
        using var probe = Process.Start(new ProcessStartInfo("runuser", ["-u", "postgres", "--", "test", "-x", existing.FullName])
            { RedirectStandardError = true })!;
        probe.WaitForExit();
        return probe.ExitCode == 0;
    }

    /// <summary>Under root, the postgres user must own the cluster's folder (or a file in it).</summary>
    private static void Own(string directory)
    {
        if (!IsRoot) return;
        var start = new ProcessStartInfo("chown", ["-R", "postgres:postgres", directory]) { RedirectStandardError = true };
        using var chown = Process.Start(start)!;
        chown.WaitForExit();
        if (chown.ExitCode != 0)
            throw new InvalidOperationException($"cannot give {directory} to the postgres user (does it exist? `apt-get install postgresql` creates it): " +
                                                chown.StandardError.ReadToEnd());
        using var probe = Process.Start(new ProcessStartInfo("runuser", ["-u", "postgres", "--", "test", "-w", directory]))!;
        probe.WaitForExit();
        if (probe.ExitCode != 0)
            throw new InvalidOperationException($"the postgres user cannot reach {directory}: a folder above it is closed to other users " +
                                                "(chmod o+x it, or put MannLab's folder elsewhere)");
    }

    private static string Run(string bin, string tool, IEnumerable<string> arguments)
    {
        var path = Path.Combine(bin, tool);
        var start = IsRoot ? new ProcessStartInfo("runuser", ["-u", "postgres", "--", path, .. arguments]) : new ProcessStartInfo(path, arguments);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.WorkingDirectory = "/";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{tool} failed (exit {process.ExitCode}): {error.Result.Trim()} {output.Result.Trim()}");
        return output.Result;
    }

    /// <summary>Leaves the server running when this instance is disposed (`mannlab db url` for a later session).</summary>
    public void KeepRunning() => _startedHere = false;

    /// <summary>Stops the server running on <paramref name="dataDirectory"/>, if one is.</summary>
    /// <returns>Whether a server was running.</returns>
    public static bool Stop(string dataDirectory)
    {
        dataDirectory = Path.GetFullPath(dataDirectory);
        if (ServerLock.Running(dataDirectory) is null) return false;
        Run(FindBinaries(), "pg_ctl", ["-D", dataDirectory, "-m", "fast", "-w", "stop"]);
        return true;
    }

    /// <summary>
    /// Stops the server if this instance started it, unless another process is connected to it
    /// (a second `mannlab up`, a worker, a psql session): stopping would cut them off. `mannlab db
    /// stop` stops it then.
    /// </summary>
    public void Dispose()
    {
        if (!_startedHere) return;
        if (OthersConnected() is > 0 and var others)
        {
            LeftRunning = others;
            return;
        }
        Run(_bin, "pg_ctl", ["-D", DataDirectory, "-m", "fast", "-w", "stop"]);
    }

    /// <summary>How many other clients kept the server running when this instance was disposed (0: it was stopped).</summary>
    public int LeftRunning { get; private set; }

    private int OthersConnected()
    {
        var builder = new Npgsql.NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false, Database = "postgres" };
        using var connection = new Npgsql.NpgsqlConnection(builder.ConnectionString);
        connection.Open();
        using var count = new Npgsql.NpgsqlCommand(
            "select count(*) from pg_stat_activity where backend_type = 'client backend' and pid <> pg_backend_pid()", connection);
        return Convert.ToInt32(count.ExecuteScalar());
    }
}
