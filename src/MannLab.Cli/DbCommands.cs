using System.CommandLine;
using System.Diagnostics;
using MannLab.Data;
using MannLab.Storage;

namespace MannLab.Cli;

/// <summary><c>mannlab db url|psql|stop</c>: the database, for psql, notebooks and other tools.</summary>
public static class DbCommands
{
    public static Command Create()
    {
        var command = new Command("db", "MannLab's PostgreSQL: its address, a psql session on it, stopping the embedded server");
        command.Subcommands.Add(Url());
        command.Subcommands.Add(Psql());
        command.Subcommands.Add(Stop());
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

    private static Command Stop()
    {
        var command = new Command("stop", "Stop the embedded PostgreSQL server (under .mannlab/postgres) if it is running");
        command.SetAction(_ =>
        {
            var folder = Database.EmbeddedFolderFor(MannLabHome.Path);
            Console.WriteLine(EmbeddedPostgres.Stop(folder) ? $"stopped the server in {folder}" : $"no server is running in {folder}");
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
