using MannLab.Storage;

namespace MannLab.Cli.Tests;

/// <summary>
/// The clusters MannLab keeps under /var/lib/mannlab for projects the postgres user cannot enter:
/// `db info` lists them with their projects, and `db stop --remove` deletes them, including one
/// whose project is gone. Real clusters, made by `mannlab db url` in real closed folders.
/// </summary>
public sealed class DbClustersTests
{
    [Fact]
    public void Db_info_lists_the_clusters_of_closed_projects_and_db_stop_remove_deletes_them_even_when_the_project_is_gone()
    {
        if (Environment.UserName != "root")
            throw new InvalidOperationException("needs root: MannLab keeps clusters under /var/lib/mannlab only when it runs as root (CI does)");
        using var anywhere = new TempFolder();
        using var kept = Closed(new TempFolder());
        var gone = Closed(new TempFolder());
        var (keptData, goneData) = (Database.EmbeddedFolderFor(kept.Path), Database.EmbeddedFolderFor(gone.Path));
        var (keptCluster, goneCluster) = (Path.GetDirectoryName(keptData)!, Path.GetDirectoryName(goneData)!);
        try
        {
            keptData.Should().StartWith("/var/lib/mannlab/");
            var url = Db(kept.Path, "url");
            url.ExitCode.Should().Be(0, url.Err);
            var port = new Uri(url.Out.Trim()).Port;
            Db(gone.Path, "url").ExitCode.Should().Be(0);
            Db(gone.Path, "stop").Out.Should().Contain($"stopped the server in {goneData}");
            gone.Dispose();

            var info = Db(anywhere.Path, "info");

            info.ExitCode.Should().Be(0, info.Err);
            info.Out.Should().Contain($"database: MannLab's PostgreSQL in {anywhere.Path}/.mannlab/postgres: not created yet");
            Row(info.Out, keptCluster).Should().Contain(kept.Path).And.Contain(" exists ").And.MatchRegex(@" \d+\.\d MB ").And.EndWith($"running on port {port}");
            Row(info.Out, goneCluster).Should().Contain(gone.Path).And.Contain(" gone ").And.EndWith("stopped");

            var removed = Db(kept.Path, "stop", "--remove");

            removed.ExitCode.Should().Be(0, removed.Err);
            removed.Out.Should().Contain($"stopped the server in {keptData}").And.MatchRegex($@"deleted {keptCluster} \(\d+\.\d MB\): the cluster, with every run");
            Directory.Exists(keptCluster).Should().BeFalse();

            // A project that is gone cannot run its own `db stop`: its cluster is named instead.
            Db(anywhere.Path, "stop", "--remove", "/var/lib/mannlab/no-such-cluster").ExitCode.Should().Be(1);
            var orphan = Db(anywhere.Path, "stop", "--remove", goneCluster);

            orphan.ExitCode.Should().Be(0, orphan.Err);
            orphan.Out.Should().Contain($"no server is running in {goneData}").And.Contain($"deleted {goneCluster} (");
            Directory.Exists(goneCluster).Should().BeFalse();
            Db(anywhere.Path, "info").Out.Should().NotContain(keptCluster).And.NotContain(goneCluster);
        }
        finally
        {
            foreach (var data in new[] { keptData, goneData })
            {
                EmbeddedPostgres.Stop(data);
                if (Directory.Exists(Path.GetDirectoryName(data))) Directory.Delete(Path.GetDirectoryName(data)!, recursive: true);
            }
            if (Directory.Exists(gone.Path)) gone.Dispose();
        }
    }

    /// <summary>A project folder closed to other users, as /root is: the postgres user cannot keep a cluster in it.</summary>
    private static TempFolder Closed(TempFolder folder)
    {
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException("a folder closed to the postgres user is a Unix matter");
        File.SetUnixFileMode(folder.Path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return folder;
    }

    private static Mannlab.Result Db(string home, params string[] args) =>
        Mannlab.Run(home, new Dictionary<string, string> { ["MANNLAB_HOME"] = home, ["MANNLAB_DB"] = "" }, ["db", .. args]);

    /// <summary>db info's table row of <paramref name="cluster"/>.</summary>
    private static string Row(string output, string cluster) =>
        output.Split('\n').SingleOrDefault(l => l.StartsWith(cluster + " ")) ?? throw new InvalidOperationException($"no row for {cluster} in:\n{output}");
}
