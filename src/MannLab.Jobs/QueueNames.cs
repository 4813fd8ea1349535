namespace MannLab.Jobs;

/// <summary>
/// Hangfire queues: one per device and priority ("cpu_high", "cpu", "cpu_low", ...). A worker
/// lists them most urgent first, and Hangfire.PostgreSql takes jobs in the order the queues are
/// listed, so a quickstart is not stuck behind a week of paper-sized runs.
/// </summary>
public static class QueueNames
{
    public static readonly string[] Devices = ["cpu", "gpu"];

    public static string For(string device, string priority) => priority switch
    {
        "high" => device + "_high",
        "low" => device + "_low",
        _ => device,
    };

    /// <summary>The queues a worker serving <paramref name="devices"/> listens on, most urgent first.</summary>
    public static string[] ForWorker(IEnumerable<string> devices)
    {
        var list = devices.ToList();
        foreach (var device in list)
            if (!Devices.Contains(device))
                throw new ArgumentException($"unknown queue '{device}': expected {string.Join(" or ", Devices)}");
        return [.. new[] { "high", "normal", "low" }.SelectMany(p => list.Select(d => For(d, p)))];
    }
}
