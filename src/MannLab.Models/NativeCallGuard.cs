using System.Runtime;

namespace MannLab.Models;

/// <summary>
/// Keeps the garbage collector out of a stretch of torch work. TorchSharp 0.107 hands the Scalars
/// it creates implicitly (the alpha of every add, the constants of its optimisers) to libtorch by
/// raw handle and leaves them to the finalizer. When another thread allocates (our episode
/// producer, Npgsql, Hangfire) a collection can run while this thread is inside libtorch, and the
/// Scalar is freed mid-call: measured here, a training loop beside an allocating thread crashed
/// within 2,700 to 4,100 iterations ("Expected false to be true", "Unknown scalar type"), and
/// never in 179,000 iterations inside no-GC regions. So every stretch of torch work runs inside a
/// no-GC region, and collections happen between them, on this thread, where nothing is in flight.
/// </summary>
public readonly struct NativeCallGuard : IDisposable
{
    /// <summary>Room for one iteration's managed allocations on every thread (a batch is about 1.5 MB).</summary>
    private const long Budget = 64L << 20;

    private readonly bool _started;

    private NativeCallGuard(bool started) => _started = started;

    public static NativeCallGuard Enter()
    {
        if (GCSettings.LatencyMode == GCLatencyMode.NoGCRegion) return new NativeCallGuard(false); // nested: the outer guard holds
        return new NativeCallGuard(GC.TryStartNoGCRegion(Budget));
    }

    public void Dispose()
    {
        // If allocations outran the budget the region has already ended; there is nothing to end.
        if (_started && GCSettings.LatencyMode == GCLatencyMode.NoGCRegion) GC.EndNoGCRegion();
    }
}
