using System.CommandLine;
using System.Diagnostics;
using MannLab.Data;
using MannLab.Storage;

namespace MannLab.Cli;

/// <summary><c>mannlab db url|psql|info|stop|bench</c>: the database, for psql, notebooks and other tools, the embedded clusters, and what recording costs.</summary>
public static class DbCommands
{
    public static Command Create()
    {
        var command = new Command("db", "MannLab's PostgreSQL: its address, a psql session on it, the embedded clusters, stopping and removing one, what recording costs");
        command.Subcommands.Add(Url());
        command.Subcommands.Add(Psql());
        command.Subcommands.Add(Info());
        command.Subcommands.Add(Stop());
        command.Subcommands.Add(Bench());
        return command;
    }

    private static Command Url()
    {
        var db = JobCommandSupport.DbOption();
        var command = new Command("url", "Print the connection URI (postgresql://...). The embedded server is started if needed and left running; `mannlab db stop` stops it.");
        command.Options.Add(db);
        command.SetAction(parse =>
        {
            using var database = Open(parse.GetValue(db));
            if (database is null) return 1;
            database.KeepServerRunning();
            Console.WriteLine(database.AsUri());
            return 0;
        });
        return command;
    }

    private static Command Psql()
    {
        var db = JobCommandSupport.DbOption();
        var sql = new Option<string?>("--command", "-c") { Description = "Run this SQL and exit, as psql -c does" };
        var readOnly = new Option<bool>("--read-only") { Description = "Connect as the read-only role the dashboards use" };
        var command = new Command("psql", "Open psql on MannLab's database (schema mannlab; see db/README.md)");
        command.Options.Add(db);
        command.Options.Add(sql);
        command.Options.Add(readOnly);
        command.SetAction(parse =>
        {
            using var database = Open(parse.GetValue(db));
            if (database is null) return 1;
            var target = database.ConnectionString;
            if (parse.GetValue(readOnly))
            {
                var (reader, asReader) = database.ReadOnlyAsync().GetAwaiter().GetResult();
                if (!asReader)
                {
                    Console.Error.WriteLine("error: there is no read-only role on this server: set MANNLAB_READONLY_DB (see db/README.md)");
                    return 1;
                }
                target = reader;
            }
            var start = new ProcessStartInfo(PsqlPath(), ["-X", "-v", "ON_ERROR_STOP=1", Database.UriOf(target)]) { UseShellExecute = false };
            if (new Npgsql.NpgsqlConnectionStringBuilder(target).Password is { } password) start.Environment["PGPASSWORD"] = password;
            start.Environment["PGOPTIONS"] = "--search_path=mannlab,public";
            if (parse.GetValue(sql) is { } text)
            {
                start.ArgumentList.Add("-c");
                start.ArgumentList.Add(text);
            }
            using var psql = Process.Start(start)!;
            // psql owns the terminal now: Ctrl-C cancels its query, not this process.
            Console.CancelKeyPress += (_, e) => e.Cancel = true;
            psql.WaitForExit();
            return psql.ExitCode;
        });
        return command;
    }

    private static Command Info()
    {
        var command = new Command("info", $"This project's database, and every cluster under {OutsideClusters.Root} with its project, size and state");
        command.SetAction(_ =>
        {
            var home = MannLabHome.Path;
            if (Database.Configured(null) is { } configured)
            {
                Console.WriteLine($"database: {Database.UriOf(configured)} (MANNLAB_DB)");
            }
            else
            {
                var folder = Database.EmbeddedFolderFor(home);
                Console.WriteLine($"database: MannLab's PostgreSQL in {folder}: " + (!File.Exists(Path.Combine(folder, "PG_VERSION"))
                    ? "not created yet (`mannlab up` or `mannlab db url` creates it)"
                    : $"{Server(ServerLock.Running(folder)?.Port)}, {Megabytes(OutsideClusters.Size(folder))}"));
            }
            var outside = OutsideClusters.List();
            if (outside.Count == 0)
            {
                Console.WriteLine($"no clusters under {OutsideClusters.Root}");
                return 0;
            }
            Console.WriteLine($"clusters under {OutsideClusters.Root}, kept there for projects the postgres user cannot enter:");
            TextTable.Write(Console.Out, ["cluster", "project", "project folder", "size", "server"], outside.Select(c => (IReadOnlyList<string>)
                [c.Folder, c.Project ?? "unknown (made before clusters noted their project)", c.Project is null ? "?" : c.ProjectExists ? "exists" : "gone",
                 Megabytes(c.Bytes), Server(c.Port)]));
            Console.WriteLine("`mannlab db stop --remove CLUSTER` stops one and deletes it, with every run, metric and checkpoint in it.");
            return 0;
        });
        return command;

        static string Server(int? port) => port is { } p ? $"running on port {p}" : "stopped";
    }

    private static Command Stop()
    {
        var cluster = new Argument<string?>("cluster")
        {
            Description = $"A cluster under {OutsideClusters.Root} that `mannlab db info` lists (default: this project's)", Arity = ArgumentArity.ZeroOrOne,
        };
        var remove = new Option<bool>("--remove") { Description = "Delete the cluster too, with every run, metric and checkpoint in it" };
        var command = new Command("stop", "Stop the embedded PostgreSQL server (this project's, or the cluster given) if it is running; --remove deletes the cluster");
        command.Arguments.Add(cluster);
        command.Options.Add(remove);
        command.SetAction(parse =>
        {
            var folder = Database.EmbeddedFolderFor(MannLabHome.Path);
            if (parse.GetValue(cluster) is { } given)
            {
                var full = Path.GetFullPath(given);
                if (OutsideClusters.List().FirstOrDefault(c => c.Folder == full || c.DataDirectory == full) is not { } listed)
                {
                    Console.Error.WriteLine($"error: {given} is not a cluster under {OutsideClusters.Root} (`mannlab db info` lists them)");
                    return 1;
                }
                folder = listed.DataDirectory;
            }
            Console.WriteLine(EmbeddedPostgres.Stop(folder) ? $"stopped the server in {folder}" : $"no server is running in {folder}");
            if (!parse.GetValue(remove)) return 0;
            var doomed = OutsideClusters.FolderOf(folder) ?? folder;
            if (!Directory.Exists(doomed))
            {
                Console.WriteLine($"no cluster in {doomed}: nothing to remove");
                return 0;
            }
            var size = OutsideClusters.Size(doomed);
            Directory.Delete(doomed, recursive: true);
            Console.WriteLine($"deleted {doomed} ({Megabytes(size)}): the cluster, with every run, metric and checkpoint in it");
            return 0;
        });
        return command;
    }

    private static string Megabytes(long bytes) => $"{bytes / 1e6:F1} MB";

    private static Command Bench()
    {
        var db = JobCommandSupport.DbOption();
        var rows = new Option<int>("--rows") { Description = "Metric rows written at each write size", DefaultValueFactory = _ => 20_000 };
        var command = new Command("bench", "Time recording as training records: metric rows through a run's sink (binary COPY, upsert, run summary, under the lease), " +
                                           "into a scratch run deleted afterwards; per 1,000 rows, at several rows per write");
        command.Options.Add(db);
        command.Options.Add(rows);
        command.SetAction(parse =>
        {
            if (parse.GetValue(rows) is var count and < 2_000)
            {
                Console.Error.WriteLine($"error: --rows {count}: at least 2000, the largest write");
                return 1;
            }
            using var database = Open(parse.GetValue(db));
            if (database is null) return 1;
            Console.WriteLine($"{database.AsUri()}; CPU: {MannLab.Runs.RunEnvironment.CpuModel()}, {Environment.ProcessorCount} cores");
            TextTable.Write(Console.Out, ["rows per write", "writes", "median ms per write", "ms per 1,000 rows", "rows per second", "bytes per row"],
                RecordingBench.Run(database.DataSource, parse.GetValue(rows)).Select(r => (IReadOnlyList<string>)
                [
                    r.Rewrite ? $"{r.RowsPerWrite}, rows already there" : $"{r.RowsPerWrite}", $"{r.Writes}", $"{r.MedianMs:0.00}", $"{r.MsPerThousand:0.0}", $"{r.RowsPerSecond:0}", $"{r.BytesPerRow:0}",
                ]));
            return 0;
        });
        return command;
    }

    private static Database? Open(string? db)
    {
        try
        {
            return Database.OpenAsync(Database.Configured(db), MannLabHome.Path).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is InvalidOperationException or Npgsql.NpgsqlException or ArgumentException or UriFormatException)
        {
            Console.Error.WriteLine($"error: cannot open the database: {e.Message}");
            return null;
        }
    }

    private static string PsqlPath()
    {
        try
        {
            var bundled = Path.Combine(EmbeddedPostgres.FindBinaries(), "psql");
            if (File.Exists(bundled)) return bundled;
        }
        catch (InvalidOperationException)
        {
            // no server binaries: a client-only install may still have psql on the PATH
        }
        return "psql";
    }
}
