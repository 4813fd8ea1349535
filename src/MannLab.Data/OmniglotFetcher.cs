using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace MannLab.Data;

/// <summary>
/// Downloads the authors' two Omniglot archives, resuming an interrupted download (HTTP Range on
/// the .part file) and verifying each archive's SHA-256. The archives take their final names
/// together once all are verified, so a reader never sees one subset without the other.
/// </summary>
public static class OmniglotFetcher
{
    /// <summary>An archive being downloaded: the file's name with this suffix, until it is verified.</summary>
    public const string PartSuffix = ".part";

    /// <summary>The dataset authors' public location (github.com/brendenlake/omniglot, python/).</summary>
    private static readonly Uri AuthorsLocation = new("https://raw.githubusercontent.com/brendenlake/omniglot/master/python/");

    /// <summary>SHA-256 of the authors' archives.</summary>
    private static readonly IReadOnlyDictionary<string, string> AuthorsChecksums = new Dictionary<string, string>
    {
        ["images_background.zip"] = "6215212b4791250ba69eb49202c8d40d749d3db87cc22e78c79f16e49e040373",
        ["images_evaluation.zip"] = "953c04c9ba94a90535cd5b6583163b1d96a46f4585d8893fb3f83c253ace7e5e",
    };

    public sealed record Progress(string File, long Done, long? Total)
    {
        public bool Complete => Total is { } t && Done >= t;

        /// <summary>"images_background.zip: 42.0% of 9.5 MB" (or the megabytes so far when the size is unknown).</summary>
        public override string ToString() =>
            $"{File}: {(Total is { } total and > 0 ? $"{100.0 * Done / total:F1}% of {total / 1e6:F1} MB" : $"{Done / 1e6:F1} MB")}";
    }

    /// <summary>Where to download from: a base URL, and the archives to fetch with their SHA-256.</summary>
    public sealed record Source(Uri Url, IReadOnlyDictionary<string, string> Checksums)
    {
        /// <summary>The authors' location and archives, or a mirror's (<paramref name="url"/>) and a SHA256SUMS file's.</summary>
        public static Source From(string? url, string? checksumsFile)
        {
            var location = url is null ? AuthorsLocation
                : Uri.TryCreate(url.EndsWith('/') ? url : url + "/", UriKind.Absolute, out var given) && given.Scheme is "http" or "https" ? given
                : throw new DataException($"{url}: expected an http:// or https:// URL to download from");
            return new Source(location, checksumsFile is null ? AuthorsChecksums : ReadChecksums(checksumsFile));
        }
    }

    /// <summary>
    /// The client downloads go through: a connection that can't be made fails in seconds (offline
    /// machines drop packets rather than refuse them), an archive may take long to arrive.
    /// </summary>
    public static HttpClient Client() =>
        new(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(20) }) { Timeout = TimeSpan.FromMinutes(30) };

    /// <summary>Reads a sha256sum-style file: "hex  name" per line.</summary>
    public static IReadOnlyDictionary<string, string> ReadChecksums(string file)
    {
        var result = new Dictionary<string, string>();
        foreach (var (line, number) in File.ReadLines(file).Select((l, i) => (l.Trim(), i + 1)))
        {
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var parts = line.Split((char[])[' ', '\t'], 2, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length != 2 || parts[0].Length != 64 || !parts[0].All(Uri.IsHexDigit))
                throw new DataException($"{file}:{number}: expected '<sha256 hex>  <file name>'");
            result[parts[1].TrimStart('*')] = parts[0].ToLowerInvariant();
        }
        return result;
    }

    /// <summary>Fetches every archive named in <paramref name="source"/>'s checksums into <paramref name="destination"/>.</summary>
    /// <returns>What happened to each file: "downloaded", "resumed" or "already present".</returns>
    public static async Task<IReadOnlyList<(string File, string Outcome)>> FetchAsync(Source source, string destination,
        IProgress<Progress>? progress, HttpClient http, CancellationToken cancel = default)
    {
        Directory.CreateDirectory(destination);
        var outcomes = new List<(string, string)>();
        var verified = new List<(string Part, string Final)>();
        foreach (var (name, expected) in source.Checksums.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            var final = Path.Combine(destination, name);
            if (File.Exists(final) && await Sha256Async(final, cancel) == expected)
            {
                outcomes.Add((name, "already present"));
                continue;
            }
            var part = final + PartSuffix;
            var resumed = await DownloadAsync(new Uri(source.Url, name), part, name, progress, http, cancel);
            var actual = await Sha256Async(part, cancel);
            if (actual != expected)
            {
                File.Delete(part);
                throw new DataException($"{final}: checksum mismatch (SHA-256 {actual}, expected {expected}); the download was removed, run the command again");
            }
            verified.Add((part, final));
            outcomes.Add((name, resumed ? "resumed" : "downloaded"));
        }
        // Until the last move, a .part is left beside the archives, which readers take as "not there yet".
        foreach (var (part, final) in verified) File.Move(part, final, overwrite: true);
        return outcomes;
    }

    /// <returns>True when an existing .part was continued rather than started afresh.</returns>
    private static async Task<bool> DownloadAsync(Uri url, string part, string name, IProgress<Progress>? progress, HttpClient http, CancellationToken cancel)
    {
        var have = File.Exists(part) ? new FileInfo(part).Length : 0;
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (have > 0) request.Headers.Range = new RangeHeaderValue(have, null);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancel);
        }
        catch (HttpRequestException e)
        {
            throw new DataException($"{url}: cannot download ({e.Message})", e);
        }
        using (response)
        {
            if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable && have > 0) return true; // the .part is already whole
            if (!response.IsSuccessStatusCode)
                throw new DataException($"{url}: the server answered {(int)response.StatusCode} {response.ReasonPhrase}");
            var resuming = response.StatusCode == HttpStatusCode.PartialContent;
            if (!resuming) have = 0; // the server ignored the range: start over
            var total = response.Content.Headers.ContentLength is { } length ? length + have : (long?)null;
            await using var output = new FileStream(part, resuming ? FileMode.Append : FileMode.Create, FileAccess.Write);
            await using var input = await response.Content.ReadAsStreamAsync(cancel);
            var buffer = new byte[1 << 16];
            var done = have;
            progress?.Report(new Progress(name, done, total));
            int read;
            while ((read = await input.ReadAsync(buffer, cancel)) > 0)
            {
                await output.WriteAsync(buffer.AsMemory(0, read), cancel);
                done += read;
                progress?.Report(new Progress(name, done, total));
            }
            return resuming;
        }
    }

    private static async Task<string> Sha256Async(string file, CancellationToken cancel)
    {
        await using var stream = File.OpenRead(file);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancel));
    }
}
