using System.Net;
using System.Net.Sockets;

namespace MannLab.Testing;

/// <summary>
/// A TCP relay on loopback to a server on loopback, which a test can cut and restore: the database
/// going away and coming back on the same address, as a restart or a network fault makes it,
/// without stopping a server other tests use. Cutting closes every relayed connection and refuses
/// new ones; restoring listens on the same port again.
/// </summary>
public sealed class LoopbackProxy : IDisposable
{
    private readonly int _target;
    private readonly Lock _gate = new();
    private readonly List<Socket> _open = [];
    private TcpListener? _listener;

    public LoopbackProxy(int targetPort)
    {
        _target = targetPort;
        Port = Listen(0);
    }

    /// <summary>The port clients connect to.</summary>
    public int Port { get; }

    /// <summary>Closes every relayed connection and refuses new ones until <see cref="Restore"/>.</summary>
    public void Cut()
    {
        lock (_gate)
        {
            _listener?.Stop();
            _listener = null;
            foreach (var socket in _open) socket.Dispose();
            _open.Clear();
        }
    }

    public void Restore()
    {
        lock (_gate)
            if (_listener is null) Listen(Port);
    }

    private int Listen(int port)
    {
        var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Start();
        _listener = listener;
        _ = AcceptAsync(listener);
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private async Task AcceptAsync(TcpListener listener)
    {
        while (true)
        {
            Socket client, server;
            try
            {
                client = await listener.AcceptSocketAsync();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return; // cut or disposed
            }
            server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await server.ConnectAsync(IPAddress.Loopback, _target);
            }
            catch (SocketException)
            {
                client.Dispose();
                server.Dispose();
                continue;
            }
            lock (_gate)
            {
                if (_listener != listener)
                {
                    client.Dispose();
                    server.Dispose();
                    return;
                }
                _open.Add(client);
                _open.Add(server);
            }
            _ = PumpAsync(client, server);
            _ = PumpAsync(server, client);
        }
    }

    private static async Task PumpAsync(Socket from, Socket to)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            int read;
            while ((read = await from.ReceiveAsync(buffer, SocketFlags.None)) > 0)
                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // one side closed or was cut
        }
        from.Dispose();
        to.Dispose();
    }

    public void Dispose() => Cut();
}
