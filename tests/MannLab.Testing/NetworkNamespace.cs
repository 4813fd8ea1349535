using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace MannLab.Testing;

/// <summary>
/// Another machine for the tests: a network namespace joined to this one by a veth pair, with a /30
/// of 198.18.0.0/15 (the range reserved for network tests) between its two ends. The namespace has
/// no route but that /30 and IPv6 is off on the pair, so what runs inside reaches the host end and
/// nothing else; tests must send traffic nowhere but loopback and such namespaces. Disposing removes
/// the pair and the namespace. Needs root or CAP_NET_ADMIN: without them creation throws saying so.
/// </summary>
public sealed class NetworkNamespace : IAsyncDisposable
{
    private const int Attempts = 64;
    private const int PrefixLength = 30;
    private static readonly TimeSpan IpTimeout = TimeSpan.FromSeconds(30);
    private static int _created;

    private readonly Slot _slot;
    private readonly string[] _prefix;
    private bool _claimed, _linked;

    private NetworkNamespace(Slot slot, string[] prefix) => (_slot, _prefix) = (slot, prefix);

    public string Name => _slot.Name;
    public string HostInterface => _slot.HostInterface;
    public string NamespaceInterface => _slot.NamespaceInterface;

    /// <summary>The /30 the two ends share.</summary>
    public IPNetwork Network => new(_slot.Address(0), PrefixLength);

    /// <summary>This machine's end of the pair: what a client inside the namespace connects to.</summary>
    public IPAddress HostAddress => _slot.Address(1);

    /// <summary>The namespace's end: where its requests come from, as seen by this machine.</summary>
    public IPAddress NamespaceAddress => _slot.Address(2);

    /// <summary>
    /// A new namespace in a free slot. Each process starts from a slot of its own (by its id) and
    /// moves on when one is taken, since other test runs on this machine create namespaces too.
    /// </summary>
    /// <param name="prefix">What runs the privileged commands (ip, sysctl): nothing by default; e.g. <c>sudo -n</c>, or setpriv to take rights away.</param>
    public static async Task<NetworkNamespace> CreateAsync(params string[] prefix)
    {
        var first = Environment.ProcessId * 16 + Interlocked.Increment(ref _created);
        for (var attempt = 0; attempt < Attempts; attempt++)
        {
            var candidate = new NetworkNamespace(new Slot((first + attempt) % Slot.Count), prefix);
            try
            {
                if (await candidate.ClaimAsync() && await candidate.ConnectAsync()) return candidate;
            }
            catch
            {
                await candidate.DisposeAsync();
                throw;
            }
            await candidate.DisposeAsync();
        }
        throw new InvalidOperationException($"no free slot for a network namespace in {Attempts} tries: see `ip netns list` for mannlab-* ones left behind");
    }

    /// <summary>The start info for <paramref name="command"/> run inside the namespace.</summary>
    public ProcessStartInfo StartInfo(params string[] command) => Command.StartInfo([.. _prefix, "ip", "netns", "exec", Name, .. command]);

    public Task<Command.Result> RunAsync(TimeSpan timeout, params string[] command) => Command.RunAsync(StartInfo(command), timeout);

    /// <summary>A port free on the host's end of the pair and on loopback (a server listening on every address takes both): bound and released, nothing sent.</summary>
    public int FreeHostPort()
    {
        for (var attempt = 0; ; attempt++)
        {
            using var first = new TcpListener(HostAddress, 0);
            first.Start();
            var port = ((IPEndPoint)first.LocalEndpoint).Port;
            try
            {
                using var loopback = new TcpListener(IPAddress.Loopback, port);
                loopback.Start();
                loopback.Stop();
                first.Stop();
                return port;
            }
            catch (SocketException) when (attempt < 20)
            {
            }
        }
    }

    /// <summary>Kills every process inside with SIGKILL, as a machine's sudden death would, and waits until none is left.</summary>
    public async Task KillAllAsync()
    {
        for (var round = 0; round < 100; round++)
        {
            var pids = (await Must("ip", "netns", "pids", Name)).Out.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (pids.Length == 0) return;
            await Privileged(["kill", "-KILL", .. pids]); // some may be gone already
            await Task.Delay(100);
        }
        throw new InvalidOperationException($"processes still run in {Name} after SIGKILL");
    }

    /// <summary>Takes this machine's end of the pair down (a network partition) or up again.</summary>
    public async Task SetLinkAsync(bool up) => await Must("ip", "link", "set", HostInterface, up ? "up" : "down");

    /// <summary>Creates the namespace; false when another one holds this slot. Its name is the slot's lock: ip creates a name only once.</summary>
    private async Task<bool> ClaimAsync()
    {
        var add = await Privileged("ip", "netns", "add", Name);
        _claimed = add.Succeeded;
        return add.Succeeded || (IsTaken(add) ? false
            : throw new InvalidOperationException($"creating a network namespace needs root or CAP_NET_ADMIN: ip netns add {Name}: {add.Err.Trim()}"));
    }

    /// <summary>Joins the namespace to this one; false when something outside MannLab's namespaces already uses this slot's names or addresses.</summary>
    private async Task<bool> ConnectAsync()
    {
        if ((await Must("ip", "-4", "-o", "addr", "show", "to", Network.ToString())).Out.Length > 0) return false;
        var link = await Privileged("ip", "link", "add", HostInterface, "type", "veth", "peer", "name", NamespaceInterface, "netns", Name);
        _linked = link.Succeeded;
        if (!link.Succeeded) return IsTaken(link) ? false : throw new InvalidOperationException($"ip link add {HostInterface} type veth: {link.Err.Trim()}");
        // Before the links come up: IPv6 would send router solicitations and multicast reports on them.
        if (Directory.Exists("/proc/sys/net/ipv6"))
        {
            await Must("sysctl", "-q", "-w", $"net.ipv6.conf.{HostInterface}.disable_ipv6=1");
            await Must("ip", "netns", "exec", Name, "sysctl", "-q", "-w", $"net.ipv6.conf.{NamespaceInterface}.disable_ipv6=1");
        }
        await Must("ip", "addr", "add", $"{HostAddress}/{PrefixLength}", "dev", HostInterface);
        await Must("ip", "-n", Name, "addr", "add", $"{NamespaceAddress}/{PrefixLength}", "dev", NamespaceInterface);
        await Must("ip", "link", "set", HostInterface, "up");
        await Must("ip", "-n", Name, "link", "set", NamespaceInterface, "up");
        await Must("ip", "-n", Name, "link", "set", "lo", "up");
        return true;
    }

    private static bool IsTaken(Command.Result result) => result.Err.Contains("File exists");

    private Task<Command.Result> Privileged(params string[] command) => Command.RunAsync(IpTimeout, [.. _prefix, .. command]);

    private async Task<Command.Result> Must(params string[] command)
    {
        var result = await Privileged(command);
        if (!result.Succeeded) throw new InvalidOperationException($"{string.Join(' ', command)}: {result.Err.Trim()}");
        return result;
    }

    /// <summary>
    /// Deletes the pair first: deleting only the namespace leaves the kernel to remove the host end
    /// later, in the background, so it could still be there when the test looks. The namespace goes
    /// even when that fails.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        var pair = _linked ? await Privileged("ip", "link", "del", HostInterface) : null;
        if (_claimed) await Must("ip", "netns", "del", Name);
        (_linked, _claimed) = (false, false);
        if (pair is { Succeeded: false }) throw new InvalidOperationException($"ip link del {HostInterface}: {pair.Err.Trim()}");
    }

    /// <summary>Slot <paramref name="Index"/> of 198.18.0.0/15: its /30 and the names that claim it (interface names have at most 15 characters).</summary>
    private sealed record Slot(int Index)
    {
        /// <summary>A /15 holds 2^17 addresses, four to a /30.</summary>
        public const int Count = (1 << (32 - 15)) / 4;
        private const uint Range = 198u << 24 | 18u << 16;

        public string Name => $"mannlab-{Index}";
        public string HostInterface => $"mlh{Index}";
        public string NamespaceInterface => $"mln{Index}";

        /// <summary>The /30's address <paramref name="offset"/>: 0 the network, 1 the host end, 2 the namespace's end.</summary>
        public IPAddress Address(int offset)
        {
            var bytes = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(bytes, Range + (uint)(Index * 4 + offset));
            return new IPAddress(bytes);
        }
    }
}
