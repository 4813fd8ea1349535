using MannLab.Data;
using MannLab.Spec;
using MannLab.Storage;

namespace MannLab.Jobs;

/// <summary>
/// Runs whose data is missing: a worker parks such a run as waiting (with the reason and what
/// supplies the data) instead of starting its training process, and every recovery pass queues
/// the waiting runs whose data has come. Both look with the worker's own environment and file
/// system, which its training processes inherit: the worker's MANNLAB_OMNIGLOT and MannLab folder
/// decide, not those of whoever queued the run.
/// </summary>
public sealed class DataWaits(RunLeases leases, RunQueries queries)
{
    /// <summary>What the run of <paramref name="specJson"/> lacks here; null when its data is here (or its spec does not read: training reports that).</summary>
    public static MissingData? Check(string specJson) =>
        Experiments.specOfJson(specJson) is { IsOk: true } spec ? MissingData.Of(spec.ResultValue.Dataset) : null;

    /// <summary>If the run's data is missing here, parks it (unless it is leased, finished or being cancelled) and says what is missing.</summary>
    public async Task<MissingData?> ParkIfMissingAsync(string runId, CancellationToken cancel = default)
    {
        var missing = Check(await queries.SpecJsonAsync(runId, cancel));
        if (missing is not null) await leases.MarkWaitingAsync(runId, missing.ToString(), cancel);
        return missing;
    }

    /// <summary>Queues the waiting runs whose data is here now; their ids.</summary>
    public async Task<IReadOnlyList<string>> WakeAsync(CancellationToken cancel = default)
    {
        var ready = (await leases.WaitingAsync(cancel)).Where(r => Check(r.SpecJson) is null).Select(r => r.Id).ToList();
        return ready.Count == 0 ? [] : await leases.WakeAsync(ready, cancel);
    }
}
