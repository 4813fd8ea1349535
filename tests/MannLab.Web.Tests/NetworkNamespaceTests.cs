using System.Net;
using System.Net.Sockets;

namespace MannLab.Web.Tests;

/// <summary>The shared fixture that plays another machine (SecurityTests use it), tested here by its first user.</summary>
public sealed class NetworkNamespaceTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task What_runs_inside_reaches_the_host_end_from_the_namespace_address()
    {
        await using var other = await NetworkNamespace.CreateAsync();
        using var listener = new TcpListener(other.HostAddress, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;

        var sent = await other.RunAsync(Bound, "bash", "-c", $"echo hello > /dev/tcp/{other.HostAddress}/{port}");

        sent.Succeeded.Should().BeTrue(sent.Err);
        using var client = await listener.AcceptTcpClientAsync();
        using var reader = new StreamReader(client.GetStream());
        (await reader.ReadLineAsync()).Should().Be("hello");
        ((IPEndPoint)client.Client.RemoteEndPoint!).Address.Should().Be(other.NamespaceAddress);
    }

    [Fact]
    public async Task The_namespace_can_send_nowhere_but_the_host_end()
    {
        await using var other = await NetworkNamespace.CreateAsync();

        var routes = await other.RunAsync(Bound, "ip", "-4", "route");
        var ipv6 = await other.RunAsync(Bound, "ip", "-6", "-o", "addr", "show", "dev", other.NamespaceInterface);
        var hostIpv6 = await Command.RunAsync(Bound, "ip", "-6", "-o", "addr", "show", "dev", other.HostInterface);

        routes.Out.Trim().Split('\n').Should().ContainSingle()
            .Which.Should().StartWith($"{other.Network} dev {other.NamespaceInterface} ", "the namespace has no route beyond its /30");
        ipv6.Out.Should().BeEmpty("IPv6 would send solicitations to multicast addresses");
        hostIpv6.Out.Should().BeEmpty("IPv6 would send solicitations to multicast addresses");
    }

    [Fact]
    public async Task Disposing_removes_the_namespace_and_both_ends_of_the_pair()
    {
        await using var other = await NetworkNamespace.CreateAsync();
        (await Command.RunAsync(Bound, "ip", "netns", "list")).Out.Should().Contain(other.Name);

        await other.DisposeAsync();

        (await Command.RunAsync(Bound, "ip", "netns", "list")).Out.Split('\n').Should().NotContain(line => line.Split(' ')[0] == other.Name);
        (await Command.RunAsync(Bound, "ip", "link", "show", other.HostInterface)).Succeeded.Should().BeFalse("the host end goes with the pair");
    }

    [Fact]
    public async Task Namespaces_made_at_once_get_names_and_addresses_of_their_own()
    {
        var making = Enumerable.Range(0, 3).Select(_ => NetworkNamespace.CreateAsync()).ToArray();
        try
        {
            var made = await Task.WhenAll(making);
            made.Select(n => n.Name).Should().OnlyHaveUniqueItems();
            made.Select(n => n.Network).Should().OnlyHaveUniqueItems();
            made.Should().AllSatisfy(n => IPNetwork.Parse("198.18.0.0/15").Contains(n.Network.BaseAddress).Should().BeTrue(n.Network.ToString()));
        }
        finally
        {
            foreach (var task in making.Where(t => t.IsCompletedSuccessfully)) await (await task).DisposeAsync();
        }
    }

    [Fact]
    public async Task Without_the_right_to_create_namespaces_creation_fails_saying_why()
    {
        // as nobody, which has neither root nor CAP_NET_ADMIN
        var create = () => NetworkNamespace.CreateAsync("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups");

        (await create.Should().ThrowAsync<InvalidOperationException>()).Which.Message
            .Should().StartWith("creating a network namespace needs root or CAP_NET_ADMIN: ip netns add mannlab-");
    }
}
