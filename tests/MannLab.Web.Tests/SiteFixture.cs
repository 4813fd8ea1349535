using MannLab.Data;
using MannLab.Web;

namespace MannLab.Web.Tests;

/// <summary>
/// A real site over a real database holding real (short) runs: a MANN and an LSTM trained by the
/// job system's workers, the shipped dashboards plus two broken ones, and the web host on a free
/// port on 127.0.0.1.
/// </summary>
public sealed class SiteFixture : IAsyncLifetime
{
    public PostgresFixture Pg { get; private set; } = null!;
    public JobsHarness Lab { get; private set; } = null!;
    public WebHost Web { get; private set; } = null!;
    public string ReadOnlyConnection { get; private set; } = null!;
    public string MannRun { get; private set; } = null!;
    public string LstmRun { get; private set; } = null!;
    public HttpClient Http { get; } = new();
    public string Dashboards => Lab.Home.Sub("dashboards");

    public async Task InitializeAsync()
    {
        Pg = new PostgresFixture();
        Lab = new JobsHarness(Pg);
        Directory.CreateDirectory(Dashboards);
        foreach (var file in Directory.GetFiles(Path.Combine(MannLabHome.Path, "dashboards"), "*.yaml"))
            File.Copy(file, Path.Combine(Dashboards, Path.GetFileName(file)));
        Lab.Home.Write("dashboards/broken-yaml.yaml", "title: Broken\npanels:\n  - title: [unclosed\n");
        Lab.Home.Write("dashboards/mixed.yaml", """
            title: Mixed panels
            panels:
              - title: Good
                chart: table
                sql: select id, status from mannlab.runs order by id
              - title: Bad SQL
                chart: table
                sql: select no_such_column from mannlab.runs
              - title: Pie
                chart: pie
                sql: select 1
              - title: Good bars
                chart: bar
                x: model
                y: runs
                sql: select model, count(*) as runs from mannlab.runs group by model order by model
            """);
        var experiment = await Lab.Submit("site.yaml", JobsHarness.Spec("site", 640, 320, 320,
            "sweep: {model: [{kind: mann, hidden: 16, memory: {slots: 8, width: 8, read_heads: 1}}, {kind: lstm, hidden: 16}]}"));
        (MannRun, LstmRun) = (experiment.Runs[0].Id, experiment.Runs[1].Id);
        using (Lab.Jobs.StartWorkers(["cpu"], 2))
            await Lab.Until(() => Lab.AllFinished(2), "the site's runs to finish");
        (ReadOnlyConnection, var asReader) = await Lab.Jobs.Database.ReadOnlyAsync();
        if (!asReader) throw new InvalidOperationException("the test cluster should let mannlab_reader in");
        Web = await WebHost.StartAsync(Lab.Jobs.Storage, Lab.Db, id => Lab.Jobs.RetryAsync(id), new WebOptions("127.0.0.1", 0, null, Dashboards, ReadOnlyConnection));
        Http.BaseAddress = new Uri(Web.Address);
    }

    /// <summary>The pages on <paramref name="lab"/>'s database, with the site's dashboards, on 127.0.0.1: for a test that needs runs of its own.</summary>
    public async Task<WebHost> StartWeb(JobsHarness lab)
    {
        var (readOnly, _) = await lab.Jobs.Database.ReadOnlyAsync();
        return await WebHost.StartAsync(lab.Jobs.Storage, lab.Db, id => lab.Jobs.RetryAsync(id), new WebOptions("127.0.0.1", 0, null, Dashboards, readOnly));
    }

    public async Task<string> Get(string path)
    {
        var response = await Http.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        response.IsSuccessStatusCode.Should().BeTrue($"GET {path} gave {(int)response.StatusCode}: {body}");
        return body;
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        await Web.DisposeAsync();
        Lab.Dispose();
        Pg.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class SiteCollection : ICollectionFixture<SiteFixture>
{
    public const string Name = "site";
}
