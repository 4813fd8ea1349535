using System.Net;
using System.Net.Sockets;

namespace MannLab.Testing;

/// <summary>
/// An HTTP server on 127.0.0.1 serving files from memory, honouring Range requests, and recording
/// what it was asked: a stand-in for the dataset authors' server, since tests have no internet.
/// </summary>
public sealed class LocalArchiveServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Dictionary<string, byte[]> _files;
    private readonly Task _loop;

    /// <summary>Serves the real Omniglot archives, as the dataset's authors do (their names and bytes).</summary>
    public static LocalArchiveServer RealOmniglot() => new(Directory.GetFiles(OmniglotArchives.Folder, "images_*.zip")
        .ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes));

    public LocalArchiveServer(Dictionary<string, byte[]> files)
    {
        _files = files;
        Url = FreeUrl();
        _listener.Prefixes.Add(Url);
        _listener.Start();
        _loop = Task.Run(Serve);
    }

    public string Url { get; }

    /// <summary>"path range" for each request, range "-" when none was asked.</summary>
    public List<string> Requests { get; } = [];

    private async Task Serve()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await _listener.GetContextAsync(); }
            catch (Exception) { return; }
            var name = context.Request.Url!.AbsolutePath.TrimStart('/');
            var range = context.Request.Headers["Range"];
            lock (Requests) Requests.Add($"{name} {range ?? "-"}");
            var response = context.Response;
            if (!_files.TryGetValue(name, out var bytes))
            {
                response.StatusCode = 404;
                response.Close();
                continue;
            }
            var start = 0;
            if (range is not null && range.StartsWith("bytes=") && range.EndsWith('-'))
            {
                start = int.Parse(range[6..^1]);
                if (start >= bytes.Length)
                {
                    response.StatusCode = 416;
                    response.Close();
                    continue;
                }
                response.StatusCode = 206;
                response.Headers["Content-Range"] = $"bytes {start}-{bytes.Length - 1}/{bytes.Length}";
            }
            response.ContentLength64 = bytes.Length - start;
            await response.OutputStream.WriteAsync(bytes.AsMemory(start));
            response.Close();
        }
    }

    /// <summary>A loopback URL where nothing listens: what an offline machine's download meets, refused at once.</summary>
    public static string Unreachable() => FreeUrl();

    private static string FreeUrl()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return $"http://127.0.0.1:{port}/";
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        _loop.Wait(TimeSpan.FromSeconds(5));
    }
}
