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
/// <remarks>
/// A no-GC region is process-wide, so the guard is counted: the region opens with the first
/// active guard in the process and closes with the last. Training processes run one trainer each.
/// </remarks>
public readonly struct NativeCallGuard : IDisposable
{
    /// <summary>Room for one iteration's managed allocations on every thread (a batch is about 1.5 MB).</summary>
    private const long Budget = 64L << 20;

    private static readonly Lock Gate = new();
    private static int _active;
    private static bool _region;

    private readonly bool _entered;

    private NativeCallGuard(bool entered) => _entered = entered;

    public static NativeCallGuard Enter()
    {
        lock (Gate)
        {
            if (_active++ == 0) _region = GCSettings.LatencyMode != GCLatencyMode.NoGCRegion && GC.TryStartNoGCRegion(Budget);
        }
        return new NativeCallGuard(true);
    }

    public void Dispose()
    {
        if (!_entered) return;
        lock (Gate)
        {
            if (--_active > 0 || !_region) return;
            _region = false;
            // If allocations outran the budget the region has already ended; there is nothing to end.
            if (GCSettings.LatencyMode == GCLatencyMode.NoGCRegion) GC.EndNoGCRegion();
        }
    }
}
