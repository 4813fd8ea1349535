using System.Net;

namespace MannLab.Web.Tests;

[Collection(SiteCollection.Name)]
public sealed class SecurityTests(SiteFixture site)
{
    private const string Token = "s3cret-token";

    [Fact]
    public async Task Binding_beyond_localhost_without_a_token_is_refused()
    {
        var start = () => WebHost.StartAsync(site.Lab.Jobs.Storage, site.Lab.Db, id => site.Lab.Jobs.RetryAsync(id),
            new WebOptions("0.0.0.0", 0, null, site.Dashboards, site.ReadOnlyConnection));

        (await start.Should().ThrowAsync<ArgumentException>()).Which.Message.Should().Contain("token");
    }

    [Fact]
    public async Task A_request_from_another_machine_needs_the_token_on_the_pages_and_on_hangfire()
    {
        await using var open = await WebHost.StartAsync(site.Lab.Jobs.Storage, site.Lab.Db, id => site.Lab.Jobs.RetryAsync(id),
            new WebOptions("0.0.0.0", 0, Token, site.Dashboards, site.ReadOnlyConnection));
        var port = new Uri(open.Address).Port;
        await using var other = await NetworkNamespace.CreateAsync();
        var remote = $"http://{other.HostAddress}:{port}";

        foreach (var path in new[] { "/", $"/runs/{site.MannRun}", "/dashboards/run-health", "/hangfire", "/hangfire/jobs/succeeded" })
        {
            (await StatusFrom(other, remote + path, token: null)).Should().Be(HttpStatusCode.Unauthorized, path);
            (await StatusFrom(other, remote + path, "guess")).Should().Be(HttpStatusCode.Unauthorized, path);
            (await StatusFrom(other, remote + path, Token)).Should().Be(HttpStatusCode.OK, path);
        }
        using var local = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        (await local.GetAsync("/hangfire")).StatusCode.Should().Be(HttpStatusCode.OK, "local requests need no token");
    }

    /// <summary>The status curl gets for <paramref name="url"/> from inside <paramref name="machine"/>, with the token as a bearer when given.</summary>
    private static async Task<HttpStatusCode> StatusFrom(NetworkNamespace machine, string url, string? token)
    {
        string[] authorization = token is null ? [] : ["-H", $"Authorization: Bearer {token}"];
        // --noproxy: a proxy from the environment would be another address
        var curl = await machine.RunAsync(TimeSpan.FromSeconds(60), ["curl", "--silent", "--show-error", "--noproxy", "*",
            "--connect-timeout", "10", "--max-time", "30", "-o", "/dev/null", "-w", "%{http_code}", .. authorization, url]);
        curl.Succeeded.Should().BeTrue($"curl {url} inside {machine.Name} exited with {curl.ExitCode}: {curl.Err}");
        return (HttpStatusCode)int.Parse(curl.Out);
    }
}
