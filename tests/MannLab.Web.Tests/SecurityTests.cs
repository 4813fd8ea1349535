using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Net.Http.Headers;

namespace MannLab.Web.Tests;

[Collection(SiteCollection.Name)]
public sealed class SecurityTests(SiteFixture site)
{
    /// <summary>An address of this machine that is not loopback: requests to it arrive as from another machine.</summary>
    private static IPAddress OwnNetworkAddress() =>
        NetworkInterface.GetAllNetworkInterfaces().Where(n => n.OperationalStatus == OperationalStatus.Up)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses).Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a))
        ?? throw new InvalidOperationException("this machine has no network address besides loopback; the test needs one");

    [Fact]
    public async Task Binding_beyond_localhost_without_a_token_is_refused()
    {
        var start = () => WebHost.StartAsync(site.Lab.Jobs.Storage, site.Lab.Db,
            new WebOptions("0.0.0.0", 0, null, site.Dashboards, site.ReadOnlyConnection));

        (await start.Should().ThrowAsync<ArgumentException>()).Which.Message.Should().Contain("token");
    }

    [Fact]
    public async Task A_request_from_another_machine_needs_the_token_on_the_pages_and_on_hangfire()
    {
        await using var open = await WebHost.StartAsync(site.Lab.Jobs.Storage, site.Lab.Db,
            new WebOptions("0.0.0.0", 0, "s3cret-token", site.Dashboards, site.ReadOnlyConnection));
        var port = new Uri(open.Address).Port;
        using var remote = new HttpClient { BaseAddress = new Uri($"http://{OwnNetworkAddress()}:{port}") };

        foreach (var path in new[] { "/", $"/runs/{site.MannRun}", "/dashboards/run-health", "/hangfire", "/hangfire/jobs/succeeded" })
        {
            (await remote.GetAsync(path)).StatusCode.Should().Be(HttpStatusCode.Unauthorized, path);
            using var wrong = new HttpRequestMessage(HttpMethod.Get, path) { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", "guess") } };
            (await remote.SendAsync(wrong)).StatusCode.Should().Be(HttpStatusCode.Unauthorized, path);
            using var right = new HttpRequestMessage(HttpMethod.Get, path) { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", "s3cret-token") } };
            (await remote.SendAsync(right)).StatusCode.Should().Be(HttpStatusCode.OK, path);
        }
        using var local = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        (await local.GetAsync("/hangfire")).StatusCode.Should().Be(HttpStatusCode.OK, "local requests need no token");
    }
}
