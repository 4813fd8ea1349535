using MannLab.Data;
using MannLab.Spec;
using TorchSharp;
using static TorchSharp.torch;

namespace MannLab.Models.Tests;

/// <summary>
/// No garbage collection may run while torch works, whatever other threads allocate: TorchSharp
/// 0.107 frees implicitly created Scalars in the finalizer, and a collection during a libtorch
/// call crashes it (see NativeCallGuard).
/// </summary>
public class NativeCallGuardTests
{
    [Fact]
    public void No_collection_runs_inside_a_guarded_training_step_while_another_thread_allocates()
    {
        manual_seed(0);
        using var model = new MannModel(405, 5, ControllerKind.LstmController, 64, 2, 16,
            new LruaAccess(32, 16, 2, 0.95, LeastUsedRule.Literal), persistentMemory: false);
        using var optimizer = optim.Adam(model.parameters(), 1e-3);
        using var input = rand(16, 50, 405);
        using var targets = randint(0, 5, [16, 50, 1], ScalarType.Int64);
        var codec = new LabelCodec(LabelEncoding.OneHot, 5);
        var allocating = true;
        var allocated = 0L;
        var junk = new Thread(() =>
        {
            while (Volatile.Read(ref allocating) && allocated < (40L << 20))
            {
                GC.KeepAlive(new byte[64 << 10]);
                allocated += 64 << 10;
            }
        });

        int during;
        using (NativeCallGuard.Enter())
        using (NewDisposeScope())
        {
            var before = GC.CollectionCount(0);
            junk.Start();
            for (var i = 0; i < 3; i++)
            {
                var loss = Scoring.Loss(model.forward(input), targets, codec);
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
            }
            junk.Join();
            during = GC.CollectionCount(0) - before;
        }
        Volatile.Write(ref allocating, false);

        allocated.Should().BeGreaterThan(10L << 20, "the other thread allocated while torch worked");
        during.Should().Be(0);
    }
}
