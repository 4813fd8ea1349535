using System.Net;
using Hangfire;
using MannLab.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace MannLab.Web;

/// <summary>Where and how the site is served.</summary>
/// <param name="Host">The address to bind: 127.0.0.1 by default; anything else needs <paramref name="Token"/>.</param>
/// <param name="ReadOnlyConnectionString">The read-only role's connection, for dashboard SQL.</param>
public sealed record WebOptions(string Host, int Port, string? Token, string DashboardsFolder, string ReadOnlyConnectionString);

/// <summary>
/// The web host: MannLab's pages (runs, run, compare, the reproduction report, dashboards), the run page's retry action,
/// and the Hangfire dashboard at /hangfire, on 127.0.0.1 by default.
/// </summary>
public sealed class WebHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly NpgsqlDataSource _readOnly;

    private WebHost(WebApplication app, NpgsqlDataSource readOnly)
    {
        _app = app;
        _readOnly = readOnly;
    }

    /// <summary>The address the host listens on (with the port chosen when 0 was asked for).</summary>
    public string Address => _app.Urls.First();

    /// <param name="storage">The job system's Hangfire storage, which the dashboard at /hangfire shows.</param>
    /// <param name="retry">
    /// How the run page's Retry queues a run again: the job system's own retry, the one <c>mannlab
    /// retry</c> makes. It is handed in, so that the site needs no job code (nor what training links).
    /// </param>
    public static async Task<WebHost> StartAsync(JobStorage storage, NpgsqlDataSource db, Func<string, Task<RetryResult?>> retry, WebOptions options,
        CancellationToken cancel = default)
    {
        if (!IPAddress.TryParse(options.Host, out var address))
            throw new ArgumentException($"--bind {options.Host}: expected an IP address (127.0.0.1, 0.0.0.0, ...)");
        if (!IPAddress.IsLoopback(address) && string.IsNullOrEmpty(options.Token))
            throw new ArgumentException($"--bind {options.Host} serves other machines: give a token (--token or MANNLAB_TOKEN)");
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://{(address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]" : address)}:{options.Port}");
        // The storage is passed to the dashboard below. Hangfire's logging is global: left to the
        // default, AddHangfire would tie it to this host's logger factory, which dies with the host
        // while workers may outlive it.
        builder.Services.AddHangfire(configuration => configuration.UseLogProvider(new SilentLog()));
        var app = builder.Build();
        var readOnly = NpgsqlDataSource.Create(options.ReadOnlyConnectionString);
        var queries = new RunQueries(db);
        var pages = new Pages(queries, readOnly, options.DashboardsFolder, retry);
        var access = new Access(options.Token);
        app.Use((context, next) => access.Guard(context, () => next(context)));
        app.UseHangfireDashboard("/hangfire", new DashboardOptions
        {
            Authorization = [new Access.DashboardFilter(access)],
            DisplayStorageConnectionString = false,
            DashboardTitle = "MannLab jobs",
            AppPath = "/",
        }, storage);
        app.MapGet("/", (HttpRequest request) => pages.Runs(request));
        app.MapGet("/runs/{id}", (string id, HttpRequest request) => pages.Run(id, request));
        app.MapPost("/runs/{id}/retry", (string id) => pages.Retry(id));
        app.MapGet("/runs/{id}/memory/{step:long}.png", (string id, long step) => pages.Memory(id, step));
        app.MapGet("/compare", (HttpRequest request) => pages.Compare(request));
        app.MapGet("/report", () => pages.Report());
        app.MapGet("/dashboards", () => pages.DashboardList());
        app.MapGet("/dashboards/{slug}", (string slug, HttpRequest request) => pages.Dashboard(slug, request));
        try
        {
            await WarmAsync(app.Services, pages, queries, options.DashboardsFolder);
            await app.StartAsync(cancel);
        }
        catch
        {
            await readOnly.DisposeAsync();
            throw;
        }
        return new WebHost(app, readOnly);
    }

    /// <summary>
    /// Serves each kind of page once, in process, before the host takes requests: the newest runs'
    /// list, run page and comparison, the report, and every dashboard. Otherwise the first request of each kind
    /// paid for compiling its code and for the database's cold plans (301-410 ms at 100 million
    /// metric rows, against medians under 240 ms; BENCHMARKS.md). Nothing goes over the network.
    /// </summary>
    private static async Task WarmAsync(IServiceProvider services, Pages pages, RunQueries queries, string dashboardsFolder)
    {
        var (newest, _) = await queries.PageAsync(null, null, null, null, 0, 2);
        var compared = QueryString.Create(newest.Select(r => new KeyValuePair<string, string?>("run", r.Id)));
        var visits = new List<(QueryString Query, Func<HttpRequest, Task<IResult>> Page)>
        {
            (QueryString.Empty, pages.Runs),
            (compared, pages.Compare),
            (QueryString.Empty, _ => Task.FromResult(pages.DashboardList())),
            (QueryString.Empty, _ => pages.Report()),
        };
        visits.AddRange(newest.Take(1).Select(r => (QueryString.Empty, (Func<HttpRequest, Task<IResult>>)(request => pages.Run(r.Id, request)))));
        visits.AddRange(Dashboards.Load(dashboardsFolder).Select(d => (QueryString.Empty, (Func<HttpRequest, Task<IResult>>)(request => pages.Dashboard(d.Slug, request)))));
        foreach (var (query, page) in visits)
        {
            var context = new DefaultHttpContext { RequestServices = services };
            context.Request.QueryString = query;
            context.Response.Body = Stream.Null;
            try
            {
                await (await page(context.Request)).ExecuteAsync(context);
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or IOException)
            {
                // A page that fails here fails again on its first request, which shows why.
            }
        }
    }

    private sealed class SilentLog : Hangfire.Logging.ILogProvider, Hangfire.Logging.ILog
    {
        public Hangfire.Logging.ILog GetLogger(string name) => this;

        public bool Log(Hangfire.Logging.LogLevel logLevel, Func<string>? messageFunc, Exception? exception = null) => false;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        await _readOnly.DisposeAsync();
    }
}
