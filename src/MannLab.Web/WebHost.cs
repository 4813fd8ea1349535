using Hangfire;
using Hangfire.Dashboard;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MannLab.Web;

/// <summary>
/// The web host: the Hangfire dashboard at /hangfire, on 127.0.0.1 by default. Hangfire's
/// dashboard answers only local requests; that filter is set explicitly here, so the behaviour
/// does not hang on a library default.
/// </summary>
public sealed class WebHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private WebHost(WebApplication app) => _app = app;

    /// <summary>The address the host listens on (with the port chosen when 0 was asked for).</summary>
    public string Address => _app.Urls.First();

    public static async Task<WebHost> StartAsync(JobStorage storage, string url, CancellationToken cancel = default)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(url);
        builder.Services.AddHangfire(_ => { }); // the storage is passed to the dashboard below
        var app = builder.Build();
        app.UseHangfireDashboard("/hangfire", new DashboardOptions
        {
            Authorization = [new LocalRequestsOnlyAuthorizationFilter()],
            DisplayStorageConnectionString = false,
            DashboardTitle = "MannLab jobs",
            AppPath = "/",
        }, storage);
        app.MapGet("/", (HttpContext context) => Results.Redirect("/hangfire"));
        await app.StartAsync(cancel);
        return new WebHost(app);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
