using System.Collections.Concurrent;
using MannLab.Storage;

namespace MannLab.Jobs.Tests;

[Collection(PostgresCollection.Name)]
public sealed class WatchAndUpTests(PostgresFixture pg) : IDisposable
{
    private readonly JobsHarness _lab = new(pg);

    public void Dispose() => _lab.Dispose();

    [Fact]
    public async Task The_watcher_queues_new_and_changed_files_skips_unchanged_specs_and_queues_nothing_of_an_invalid_file()
    {
        var folder = _lab.Home.Sub("experiments");
        Directory.CreateDirectory(folder);
        _lab.Home.Write("experiments/a.yaml", JobsHarness.Spec("watched", 320, 160, 160));
        var reports = new ConcurrentQueue<FileOutcome>();
        using var watcher = new ExperimentWatcher(folder, _lab.Jobs.Queue, reports.Enqueue);
        using var stop = new CancellationTokenSource();
        var watching = watcher.WatchAsync(stop.Token);
        async Task<long> Runs() => await _lab.Scalar<long>("select count(*) from mannlab.runs");

        await _lab.Until(async () => await Runs() == 1, "the first file to be queued");

        // A new file that is invalid: reported with its place, nothing of it queued.
        _lab.Home.Write("experiments/sub/bad.yaml", JobsHarness.Spec("bad", 320, 160, 160, "sweep: {training.seed: [1, 2]}").Replace("classes: 3", "classes: three"));
        await _lab.Until(() => Task.FromResult(reports.OfType<FileOutcome.Invalid>().Any()), "the invalid file to be reported");
        reports.OfType<FileOutcome.Invalid>().Single().Errors.Should().Contain(e => e.Contains("bad.yaml:") && e.Contains("task.classes"));

        // The first file changed while being watched: its new spec is a new run.
        _lab.Home.Write("experiments/a.yaml", JobsHarness.Spec("watched", 320, 160, 160).Replace("lr: 3e-3", "lr: 1e-3"));
        await _lab.Until(async () => await Runs() == 2, "the changed file's run to be queued");

        // Saved again with only a comment added: the same resolved spec, nothing new.
        _lab.Home.Write("experiments/a.yaml", "# tuned\n" + JobsHarness.Spec("watched", 320, 160, 160).Replace("lr: 3e-3", "lr: 1e-3"));
        await _lab.Until(() => Task.FromResult(reports.Count(r => r.File.EndsWith("a.yaml")) == 3), "the re-saved file to be read");
        reports.OfType<FileOutcome.Queued>().Last().Added.Should().BeEmpty();

        // Deleted: its runs stay.
        File.Delete(Path.Combine(folder, "a.yaml"));
        await _lab.Until(() => Task.FromResult(watcher.Files.Count == 1), "the deletion to be seen");
        (await Runs()).Should().Be(2);
        (await _lab.Scalar<long>("select count(*) from mannlab.runs where name = 'bad'")).Should().Be(0);
        (await _lab.Scalar<long>("select count(*) from hangfire.job")).Should().Be(2, "one job per queued run, none for the invalid file");

        stop.Cancel();
        await watching;
    }

    [Fact]
    public void Up_with_exit_when_done_trains_a_folder_on_its_own_database_and_exits_0()
    {
        // No MANNLAB_DB: `up` creates and starts its own PostgreSQL under the home's .mannlab/, and stops it at the end.
        using var home = new TempFolder();
        home.Write("experiments/pair.yaml", JobsHarness.Spec("pair", 320, 160, 160, "sweep: {model: [{kind: lstm, hidden: 16}, {kind: feedforward, hidden: 16}]}"));
        var environment = new Dictionary<string, string> { ["MANNLAB_HOME"] = home.Path, ["MANNLAB_DB"] = "" };

        var up = Mannlab.Run(home.Path, environment, "up", "--experiments", "experiments", "--exit-when-done", "--port", "0");

        up.ExitCode.Should().Be(0, up.Out + up.Err);
        up.Out.Should().Contain("experiments/pair.yaml: queued 2 run(s)").And.Contain("all 2 run(s) succeeded").And.Contain("/hangfire");
        up.Out.Split('\n').Count(l => l.Contains(" pair ") && l.Contains("succeeded") && l.Contains("320/320")).Should().Be(2, up.Out);
        File.Exists(home.Sub(".mannlab/postgres/PG_VERSION")).Should().BeTrue();
        File.Exists(home.Sub(".mannlab/postgres/postmaster.pid")).Should().BeFalse("the server it started is stopped at exit");

        // The next `up` finds nothing new to do; `runs` and `db psql` read the same database.
        var again = Mannlab.Run(home.Path, environment, "up", "--experiments", "experiments", "--exit-when-done", "--port", "0");
        again.ExitCode.Should().Be(0, again.Out + again.Err);
        again.Out.Should().Contain("all known already").And.NotContain("from episode", "nothing was trained again");
        var psql = Mannlab.Run(home.Path, environment, "db", "psql", "-c", "select count(*) || ' runs' from runs where status = 'succeeded'");
        psql.Out.Should().Contain("2 runs", psql.Err);
    }

    [Fact]
    public void Up_with_exit_when_done_exits_1_when_a_file_is_invalid()
    {
        _lab.Home.Write("experiments/broken.yaml", "name: broken\nmodel: {kind: lstn}\n");

        var up = _lab.Run("up", "--experiments", "experiments", "--exit-when-done", "--port", "0");

        up.ExitCode.Should().Be(1);
        up.Err.Should().Contain("broken.yaml:2:").And.Contain("nothing of it queued");
        up.Out.Should().Contain("invalid file");
    }
}
