using System.Collections.Concurrent;
using System.Diagnostics;

namespace MannLab.Data;

/// <summary>
/// Produces consecutive batches on a background thread, a few ahead of the consumer, so training
/// never waits for data. Batches come in episode order whatever the timing, since each batch is
/// determined by its episode indices alone.
/// </summary>
public sealed class EpisodeStream : IDisposable
{
    private readonly BlockingCollection<EpisodeBatch> _ready;
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _producer;
    private Exception? _failure;
    private long _waitedTicks;

    public EpisodeStream(EpisodeSampler sampler, int batchSize, long firstEpisode, int ahead = 3)
    {
        _ready = new BlockingCollection<EpisodeBatch>(ahead);
        _producer = new Thread(() =>
        {
            try
            {
                for (var next = firstEpisode; !_stop.IsCancellationRequested; next += batchSize)
                    _ready.Add(sampler.Batch(next, batchSize), _stop.Token);
            }
            catch (OperationCanceledException) { }
            catch (Exception e) { _failure = e; }
            finally { _ready.CompleteAdding(); }
        }) { IsBackground = true, Name = "episode producer" };
        _producer.Start();
    }

    /// <summary>How long <see cref="Next"/> has blocked in all: zero when data is never the bottleneck.</summary>
    public TimeSpan Waited => TimeSpan.FromTicks(Interlocked.Read(ref _waitedTicks));

    public EpisodeBatch Next()
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            if (_ready.TryTake(out var batch, Timeout.Infinite)) return batch;
            throw new DataException("the episode producer stopped: " + (_failure?.Message ?? "no reason given"), _failure);
        }
        finally
        {
            Interlocked.Add(ref _waitedTicks, Stopwatch.GetElapsedTime(start).Ticks);
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _producer.Join();
        _ready.Dispose();
        _stop.Dispose();
    }
}
