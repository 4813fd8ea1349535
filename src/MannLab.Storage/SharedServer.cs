using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace MannLab.Storage;

/// <summary>
/// MannLab's own PostgreSQL shared with other machines (<c>mannlab up --listen</c>): it listens on
/// <see cref="Address"/>:<see cref="Port"/> besides 127.0.0.1, and lets in MannLab's role from
/// <see cref="Allowed"/> only, by password with scram-sha-256. On 127.0.0.1 nothing changes: no
/// password. The password is generated once, kept beside the cluster's folder with owner-only
/// permissions, and stays the same from start to start, so a worker's command keeps working.
/// </summary>
public sealed record SharedServer(IPAddress Address, int Port, IPNetwork Allowed)
{
    /// <summary>PostgreSQL's own port: what another machine tries first.</summary>
    public const int DefaultPort = 5432;

    /// <summary>The hba file of a shared server, in its cluster's folder.</summary>
    internal const string HbaFile = "mannlab_hba.conf";

    /// <summary>
    /// Reads <c>--listen ADDRESS[:PORT]</c> and <c>--allow CIDR</c>. Without <c>--allow</c>, the
    /// clients allowed are those of the network of this machine's interface that holds ADDRESS.
    /// </summary>
    /// <exception cref="FormatException">What is wrong, naming the option.</exception>
    public static SharedServer Parse(string listen, string? allow)
    {
        var (host, port) = listen.LastIndexOf(':') is var colon and > 0
            ? (listen[..colon], int.TryParse(listen[(colon + 1)..], out var p) && p is > 0 and < 65536 ? p
                : throw new FormatException($"--listen {listen}: the port must be a number from 1 to 65535"))
            : (listen, DefaultPort);
        if (!IPAddress.TryParse(host, out var address) || address.AddressFamily != AddressFamily.InterNetwork)
            throw new FormatException($"--listen {listen}: expected an IPv4 address of this machine, e.g. --listen 192.168.1.20 or 192.168.1.20:5433");
        if (IPAddress.IsLoopback(address))
            throw new FormatException($"--listen {listen}: the server always listens on 127.0.0.1; give the address other machines reach this one at");
        IPNetwork allowed;
        if (allow is not null)
        {
            if (!IPNetwork.TryParse(allow, out allowed) || allowed.BaseAddress.AddressFamily != AddressFamily.InterNetwork)
                throw new FormatException($"--allow {allow}: expected an IPv4 network, e.g. --allow 192.168.1.0/24");
        }
        else if (address.Equals(IPAddress.Any))
            throw new FormatException($"--listen {listen}: listening on every address needs --allow NETWORK, the clients to let in");
        else
            allowed = NetworkOf(address) ?? throw new FormatException(
                $"--listen {listen}: no interface of this machine has {address}; give one of its addresses, or --allow NETWORK with 0.0.0.0");
        return new SharedServer(address, port, allowed);
    }

    /// <summary>The network of the interface holding <paramref name="address"/>, or null if none does.</summary>
    private static IPNetwork? NetworkOf(IPAddress address) =>
        NetworkInterface.GetAllNetworkInterfaces().SelectMany(i => i.GetIPProperties().UnicastAddresses)
            .Where(u => u.Address.Equals(address)).Select(u => (IPNetwork?)new IPNetwork(Masked(address, u.PrefixLength), u.PrefixLength)).FirstOrDefault();

    private static IPAddress Masked(IPAddress address, int prefix)
    {
        var bytes = address.GetAddressBytes();
        for (var bit = prefix; bit < 32; bit++) bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        return new IPAddress(bytes);
    }

    /// <summary>The server's options for pg_ctl: these addresses, this hba file, SCRAM for the password.</summary>
    internal string ServerOptions(string hbaFile) =>
        $"-c listen_addresses='127.0.0.1,{Address}' -c hba_file='{hbaFile}' -c password_encryption=scram-sha-256";

    /// <summary>Local connections as before (trust on the socket and 127.0.0.1); MannLab's role from <see cref="Allowed"/> by password.</summary>
    internal string HbaRules(string user) => $"""
        # Written by mannlab up --listen; rewritten at each start.
        local all all trust
        host all all 127.0.0.1/32 trust
        host all {user} {Allowed} scram-sha-256

        """;

    /// <summary>
    /// Whether a running server is shared as this one would be: its command line (postmaster.opts)
    /// listens on this address and port, and its hba file (null if none) lets in the same clients.
    /// </summary>
    internal bool IsHowRunning(string postmasterOptions, int runningPort, string? hbaRules, string user) =>
        runningPort == Port && postmasterOptions.Contains($"listen_addresses=127.0.0.1,{Address}", StringComparison.Ordinal) && hbaRules == HbaRules(user);

    /// <summary>The password in <paramref name="file"/>, made (owner-only) on first use.</summary>
    internal static string Password(string file)
    {
        if (File.Exists(file)) return File.ReadAllText(file).Trim();
        // URL-safe letters only: it goes into a postgresql:// address and an SQL literal as it is.
        var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(24)).ToLowerInvariant();
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite; // created so: never readable by others
        using (var stream = new FileStream(file, options))
        using (var writer = new StreamWriter(stream))
            writer.WriteLine(password);
        return password;
    }

    /// <summary>The address another machine gives <c>mannlab worker --db</c>.</summary>
    public string UriFor(string user, string database, string password) =>
        $"postgresql://{user}:{password}@{(Address.Equals(IPAddress.Any) ? "THIS-MACHINE" : Address.ToString())}:{Port}/{database}";
}
