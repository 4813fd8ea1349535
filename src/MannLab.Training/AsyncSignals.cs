using System.Runtime.InteropServices;

namespace MannLab.Training;

/// <summary>
/// Keeps asynchronous signals (Ctrl-C's SIGINT, SIGTERM, SIGCHLD, ...) off the thread that runs torch.
/// <para>
/// oneDNN's AVX-512 sgemm kernel, which libtorch's CPU LSTM runs (every crash we caught was in its
/// backward), points the stack pointer at a heap workspace while it computes (<c>mov rsp, ws</c> in jit_avx512_common_gemm_f32.cpp).
/// A signal whose handler does not ask for the alternate stack (SA_ONSTACK) gets its frame, about
/// 3 KB with the AVX-512 state, written just below that pointer: over the heap below the workspace.
/// .NET's System.Native installs its SIGINT, SIGQUIT, SIGTERM, SIGCHLD and SIGCONT handler without
/// SA_ONSTACK, and Linux gives a process-directed signal to the main thread first, which is the one
/// training. So Ctrl-C during a batch sometimes corrupted the heap, and the workspace's free() then
/// aborted ("munmap_chunk(): invalid pointer", "corrupted size vs. prev_size", exit 134) or faulted.
/// </para>
/// <para>
/// Blocked on this thread, the kernel hands those signals to another thread of the process (the
/// runtime's own, all started before training), whose stack is a stack; .NET's handler runs there
/// and Ctrl-C cancels training as before. Threads this thread starts inherit the block (libgomp's
/// workers, the episode producer). Synchronous signals (SIGSEGV, ...) and the runtime's thread
/// activation signal are left alone. Linux only: a no-op elsewhere.
/// </para>
/// </summary>
public static class AsyncSignals
{
    private const int SigBlock = 0, SigSetMask = 2;

    private static readonly int[] Blocked =
    [
        1,  // SIGHUP
        2,  // SIGINT
        3,  // SIGQUIT
        10, // SIGUSR1
        12, // SIGUSR2
        15, // SIGTERM
        17, // SIGCHLD
        18, // SIGCONT
        20, // SIGTSTP
        21, // SIGTTIN
        22, // SIGTTOU
        28, // SIGWINCH
    ];

    /// <summary>Blocks them on the calling thread until the result is disposed (on the same thread).</summary>
    public static IDisposable KeepOffThisThread()
    {
        if (!OperatingSystem.IsLinux()) return new Restore(null);
        var set = new ulong[16]; // glibc's sigset_t: 1024 bits
        foreach (var signal in Blocked) set[0] |= 1UL << (signal - 1);
        var old = new ulong[16];
        var error = pthread_sigmask(SigBlock, set, old);
        if (error != 0) throw new InvalidOperationException($"pthread_sigmask failed with error {error}");
        return new Restore(old);
    }

    private sealed class Restore(ulong[]? old) : IDisposable
    {
        private ulong[]? _old = old;

        public void Dispose()
        {
            if (_old is null) return;
            _ = pthread_sigmask(SigSetMask, _old, null);
            _old = null;
        }
    }

    [DllImport("libc", ExactSpelling = true)]
    private static extern int pthread_sigmask(int how, ulong[] set, ulong[]? oldSet);
}
