using System.Diagnostics;
using System.Reflection;
using System.Text.RegularExpressions;

namespace MannLab.Web.Tests;

/// <summary>
/// The job system and the site run without torch. Storage, Jobs and Web reference no TorchSharp
/// through any MannLab assembly, and the real <c>mannlab serve</c>, <c>runs</c> and <c>submit</c>
/// never bring libtorch (nor TorchSharp) into their process: serve's memory map is read while it
/// serves, and the short commands run under strace, which records every file they try to open.
/// </summary>
[Collection(SiteCollection.Name)]
public sealed class TorchFreeTests(SiteFixture site)
{
    private static bool IsTorch(string path) => path.Contains("torch", StringComparison.OrdinalIgnoreCase);

    [Theory]
    [InlineData("MannLab.Storage")]
    [InlineData("MannLab.Jobs")]
    [InlineData("MannLab.Web")]
    public void The_assembly_references_no_TorchSharp_through_any_MannLab_assembly(string assembly)
    {
        var references = References(assembly);

        references.Should().Contain(("MannLab.Storage", "MannLab.Runs"), "the walk goes on through the MannLab assemblies it builds on");
        references.Should().NotContain(r => r.To == "TorchSharp", string.Join("\n", references.Select(r => $"{r.From} -> {r.To}")));
    }

    [Fact]
    public void The_reference_check_finds_TorchSharp_behind_another_MannLab_assembly() =>
        References("MannLab.TrainingHost").Should().Contain(("MannLab.Training", "TorchSharp"), "the training host links torch through Training");

    [Fact]
    public async Task Serve_never_loads_libtorch_while_it_serves_the_pages_and_the_Hangfire_dashboard()
    {
        using var serve = Process.Start(Mannlab.Start(site.Lab.Home.Path, site.Lab.Environment, "serve", "--port", "0", "--dashboards", site.Dashboards))!;
        var errors = serve.StandardError.ReadToEndAsync();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri(await Listening(serve, errors)) };
            var step = await site.Lab.Scalar<long>("select max(step) from mannlab.memory_snapshots where run_id = @run", ("run", site.MannRun));
            var job = await site.Lab.Scalar<string>("select job_id from mannlab.runs where id = @run", ("run", site.MannRun));

            foreach (var path in new[]
                     {
                         "/", $"/runs/{site.MannRun}", $"/runs/{site.MannRun}/memory/{step}.png", $"/compare?run={site.MannRun}&run={site.LstmRun}",
                         "/dashboards/mixed", "/hangfire/jobs/succeeded", $"/hangfire/jobs/details/{job}",
                     })
                (await http.GetAsync(path)).StatusCode.Should().Be(System.Net.HttpStatusCode.OK, path);

            var maps = File.ReadAllLines($"/proc/{serve.Id}/maps");
            maps.Should().Contain(l => l.EndsWith("/MannLab.Web.dll") || l.EndsWith("/MannLab.Jobs.dll"), "these are the server's own mappings");
            maps.Where(IsTorch).Should().BeEmpty("serve shows runs and jobs, and has nothing to train");
        }
        finally
        {
            serve.Kill(entireProcessTree: true);
            await serve.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task Runs_and_submit_never_load_libtorch_and_the_same_trace_sees_plot_memory_load_it()
    {
        using var own = new JobsHarness(site.Pg); // what submit queues goes to a database of its own, not the site's
        var spec = own.Home.Write("experiments/queued.yaml", JobsHarness.Spec("queued", 320, 160, 160));

        var (runs, runsOpened) = await Traced(site.Lab, "runs");
        var (submit, submitOpened) = await Traced(own, "submit", spec);
        var (plot, plotOpened) = await Traced(site.Lab, "plot", "memory", site.MannRun, "--out", site.Lab.Home.Sub("traced-memory.png"));

        runs.Out.Should().Contain(site.MannRun).And.Contain(site.LstmRun);
        runsOpened.Should().Contain(f => f.EndsWith("/MannLab.Storage.dll"), "the trace records the files the program opens");
        runsOpened.Where(IsTorch).Should().BeEmpty();
        submit.Out.Should().Contain("queued 1 run(s)");
        submitOpened.Where(IsTorch).Should().BeEmpty();
        plot.Out.Should().Contain("traced-memory.png");
        plotOpened.Should().Contain(f => f.Contains("libtorch"), "plot memory runs the model, with torch");
    }

    /// <summary>Every assembly reference of <paramref name="root"/>, and of each MannLab assembly it references, however deep.</summary>
    private static List<(string From, string To)> References(string root)
    {
        var references = new List<(string, string)>();
        var seen = new HashSet<string>();
        var pending = new Queue<string>([root]);
        while (pending.TryDequeue(out var name))
        {
            if (!seen.Add(name)) continue;
            foreach (var reference in Assembly.Load(name).GetReferencedAssemblies())
            {
                references.Add((name, reference.Name!));
                if (reference.Name!.StartsWith("MannLab.", StringComparison.Ordinal)) pending.Enqueue(reference.Name);
            }
        }
        return references;
    }

    /// <summary>The address serve says it listens on.</summary>
    private static async Task<string> Listening(Process serve, Task<string> errors)
    {
        using var limit = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        while (await serve.StandardOutput.ReadLineAsync(limit.Token) is { } line)
            if (Regex.Match(line, @"pages: (http://\S+)/ ") is { Success: true } match)
                return match.Groups[1].Value;
        throw new InvalidOperationException($"serve exited without listening: {await errors}");
    }

    /// <summary>
    /// Runs <c>mannlab ARGS</c> in <paramref name="lab"/> under strace: what it printed, and every
    /// file it or a child tried to open, whether or not the file was there.
    /// </summary>
    private static async Task<(Command.Result Result, List<string> Opened)> Traced(JobsHarness lab, params string[] args)
    {
        var trace = lab.Home.Sub($"strace-{Guid.NewGuid():N}.txt");
        var mannlab = Mannlab.Start(lab.Home.Path, lab.Environment, args);
        var start = Command.StartInfo(["strace", "-f", "-qq", "-e", "trace=open,openat", "-o", trace, mannlab.FileName, .. mannlab.ArgumentList]);
        start.WorkingDirectory = mannlab.WorkingDirectory;
        foreach (var (name, value) in mannlab.Environment) start.Environment[name] = value;

        var result = await Command.RunAsync(start, TimeSpan.FromMinutes(3));

        result.ExitCode.Should().Be(0, $"mannlab {string.Join(' ', args)} under strace: {result.Err}");
        // 1234 openat(AT_FDCWD, "/path/file", O_RDONLY|O_CLOEXEC) = 3; a call another thread interrupts ends in <unfinished ...>.
        return (result, [.. File.ReadLines(trace).Select(l => Regex.Match(l, @"open(?:at)?\((?:AT_FDCWD, |\d+, )?""([^""]*)""")).Where(m => m.Success)
            .Select(m => m.Groups[1].Value)]);
    }
}
