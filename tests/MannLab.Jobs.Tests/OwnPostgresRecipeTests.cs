using System.Text.RegularExpressions;
using MannLab.Storage;
using Npgsql;

namespace MannLab.Jobs.Tests;

/// <summary>
/// The README's recipe for a PostgreSQL of one's own, run line by line as written, against a
/// cluster made the way Debian's package makes one (superuser postgres, peer on the socket,
/// scram-sha-256 over TCP); a worker in a network namespace then trains through it.
/// </summary>
public sealed class OwnPostgresRecipeTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task The_readmes_own_postgresql_recipe_lets_a_worker_on_another_machine_train_through_it()
    {
        await using var machine = await NetworkNamespace.CreateAsync();
        using var server = new TempFolder();
        var bin = EmbeddedPostgres.FindBinaries();
        var (data, log, port) = (server.Sub("pg/data"), server.Sub("pg/log"), machine.FreeHostPort());
        Directory.CreateDirectory(server.Sub("pg"));
        await Must("chown", "postgres:postgres", server.Sub("pg"));
        await Must("runuser", "-u", "postgres", "--", Path.Combine(bin, "initdb"), "-D", data, "-U", "postgres", "-E", "UTF8",
            "--auth-local=peer", "--auth-host=scram-sha-256");
        // Debian's package sets these in its own postgresql.conf; listen_addresses stays at its default, localhost.
        File.AppendAllText(Path.Combine(data, "postgresql.conf"), $"port = {port}\nunix_socket_directories = '{server.Sub("pg")}'\n");
        await Must("runuser", "-u", "postgres", "--", Path.Combine(bin, "pg_ctl"), "start", "-D", data, "-w", "-l", log);
        try
        {
            var (script, uriTemplate) = Recipe();
            var password = "recipe-" + Guid.NewGuid().ToString("N")[..16];
            // What differs from a Debian machine with sudo: the cluster's restart, who runs as root, and the networks.
            var substitutions = new (string From, string To)[]
            {
                ("sudo systemctl restart postgresql", $"runuser -u postgres -- {Path.Combine(bin, "pg_ctl")} restart -D {data} -w -l {log}"),
                ("sudo -u postgres ", "runuser -u postgres -- "),
                ("sudo tee", "tee"),
                ("192.168.1.0/24", machine.Network.ToString()),
            };
            foreach (var (from, to) in substitutions)
            {
                script.Should().Contain(from, "the test follows the README's recipe");
                script = script.Replace(from, to);
            }
            script.Should().NotContain("sudo");
            // No terminal (setsid): createuser then reads the password it prompts for from its input.
            var setUp = Command.StartInfo("setsid", "-w", "bash", "-euo", "pipefail", "-c", script);
            setUp.Environment["PGHOST"] = server.Sub("pg");
            setUp.Environment["PGPORT"] = $"{port}";
            var done = await Command.RunAsync(setUp, Bound, input: $"{password}\n{password}\n");
            done.ExitCode.Should().Be(0, $"the recipe runs as written:\n{script}\n{done.Out}\n{done.Err}");

            uriTemplate.Should().Contain("<password>").And.Contain("@db-host:5432/");
            var uri = uriTemplate.Replace("<password>", password).Replace("db-host:5432", $"{machine.HostAddress}:{port}");
            using var lab = new EmbeddedLab(leaseSeconds: 30);
            using var elsewhere = new TempFolder();
            var submitted = lab.Run("submit", lab.Home.Write("experiments/own.yaml", JobsHarness.Spec("own", 640, 320, 320)), "--db", uri);
            submitted.ExitCode.Should().Be(0, submitted.Err);
            var worker = lab.StartIn(machine, elsewhere.Path, "worker", "--db", uri, "--workers", "1");

            await using var db = NpgsqlDataSource.Create(Database.FromUri(uri));
            await lab.Until(async () => await EmbeddedLab.Column<string>(db, "select status from mannlab.runs") is ["succeeded"], "the other machine to train the run");
            (await EmbeddedLab.Column<string>(db, "select worker from mannlab.run_attempts")).Should().ContainSingle()
                .Which.Should().StartWith($"{Environment.MachineName}:{worker.Id}:", "the namespace's worker trained it");
            (await EmbeddedLab.Column<long>(db, "select count(*) from mannlab.metrics where name = 'eval_acc_2'")).Should().Equal(2L);
            (await EmbeddedLab.Column<string>(db, "select nspowner::regrole::text from pg_namespace where nspname = 'mannlab'")).Should().Equal("mannlab");
            (await EmbeddedLab.Column<bool>(db, "select rolsuper or rolcreaterole or rolcreatedb from pg_roles where rolname = 'mannlab'"))
                .Should().Equal([false], "the migrations ran with no right but owning the database");
            (await EmbeddedLab.Column<string>(db, "show listen_addresses")).Should().Equal("*");

            var wrong = await SharedServerTests.Psql(machine, uri.Replace(password, "not-the-password"));
            wrong.Err.Should().Contain("password authentication failed for user \"mannlab\"");
        }
        finally
        {
            await Must("runuser", "-u", "postgres", "--", Path.Combine(bin, "pg_ctl"), "stop", "-D", data, "-m", "fast", "-w");
        }
    }

    /// <summary>The README's set-up lines for one's own server, and the address it gives every machine.</summary>
    private static (string Script, string Uri) Recipe()
    {
        var readme = File.ReadAllText(Path.Combine(Mannlab.RepositoryRoot, "README.md"));
        var recipe = Regex.Match(readme, "<!-- own-postgresql:begin -->(.*?)<!-- own-postgresql:end -->", RegexOptions.Singleline);
        recipe.Success.Should().BeTrue("the README marks the recipe");
        var blocks = Regex.Matches(recipe.Groups[1].Value, @"```bash\n(.*?)```", RegexOptions.Singleline).Select(m => Regex.Replace(m.Groups[1].Value, "^  ", "", RegexOptions.Multiline)).ToList();
        blocks.Should().HaveCount(2, "set-up lines, then the address");
        return (blocks[0], Regex.Match(blocks[1], "export MANNLAB_DB='([^']+)'").Groups[1].Value);
    }

    private static async Task Must(params string[] command)
    {
        var result = await Command.RunAsync(Bound, command);
        result.ExitCode.Should().Be(0, $"{string.Join(' ', command)}: {result.Out}{result.Err}");
    }
}
