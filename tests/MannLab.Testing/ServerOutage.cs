using System.Text.RegularExpressions;
using MannLab.Storage;

namespace MannLab.Testing;

/// <summary>
/// The database goes away for a while: a running cluster stopped as an administrator stops it
/// (<c>pg_ctl stop -m fast</c>: every connection cut), then started again on the same port with
/// the same options, read from the postmaster.opts of its last start.
/// </summary>
public sealed partial class ServerOutage
{
    private readonly string _dataDirectory;
    private readonly string _options;

    private ServerOutage(string dataDirectory, string options)
    {
        _dataDirectory = dataDirectory;
        _options = options;
    }

    public static ServerOutage Begin(string dataDirectory)
    {
        var opts = File.ReadAllText(Path.Combine(dataDirectory, "postmaster.opts"));
        // The server binary and its data directory come first; the rest are its options.
        var words = Quoted().Matches(opts).Select(m => m.Groups[1].Value).ToList();
        var data = words.IndexOf("-D");
        var options = words.Where((_, i) => i != data && i != data + 1).Select(w => "'" + w.Replace("'", "'\\''") + "'");
        if (!EmbeddedPostgres.Stop(dataDirectory)) throw new InvalidOperationException($"no server runs on {dataDirectory}");
        return new ServerOutage(dataDirectory, string.Join(' ', options));
    }

    public async Task EndAsync()
    {
        var pgCtl = Path.Combine(EmbeddedPostgres.FindBinaries(), "pg_ctl");
        string[] start = [pgCtl, "-D", _dataDirectory, "-l", Path.Combine(_dataDirectory, "server.log"), "-w", "-o", _options, "start"];
        var result = await Command.RunAsync(TimeSpan.FromMinutes(1), Environment.UserName == "root" ? ["runuser", "-u", "postgres", "--", .. start] : start);
        if (!result.Succeeded) throw new InvalidOperationException($"pg_ctl start failed: {result.Err}{result.Out}");
    }

    [GeneratedRegex("\"((?:[^\"\\\\]|\\\\.)*)\"")]
    private static partial Regex Quoted();
}
