using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace MannLab.Models.Fused;

/// <summary>
/// Row-major GEMMs and vector tanh and exp on raw pointers, through the MKL that libtorch_cpu.so
/// already carries and exports (<c>cblas_?gemm_batch</c>, <c>v?Tanh</c>, <c>v?Exp</c>): no headers, no second BLAS.
/// </summary>
internal static unsafe class Blas
{
    private const string Torch = "libtorch_cpu.so";
    private const int RowMajor = 101, NoTrans = 111, Trans = 112;

    [DllImport(Torch, EntryPoint = "cblas_sgemm_batch")]
    private static extern void SgemmBatch(int layout, int* transA, int* transB, int* m, int* n, int* k, float* alpha, float** a, int* lda,
        float** b, int* ldb, float* beta, float** c, int* ldc, int groups, int* groupSize);

    [DllImport(Torch, EntryPoint = "cblas_dgemm_batch")]
    private static extern void DgemmBatch(int layout, int* transA, int* transB, int* m, int* n, int* k, double* alpha, double** a, int* lda,
        double** b, int* ldb, double* beta, double** c, int* ldc, int groups, int* groupSize);

    [DllImport(Torch, EntryPoint = "vsTanh")] private static extern void VsTanh(int n, float* a, float* r);
    [DllImport(Torch, EntryPoint = "vdTanh")] private static extern void VdTanh(int n, double* a, double* r);
    [DllImport(Torch, EntryPoint = "vsExp")] private static extern void VsExp(int n, float* a, float* r);
    [DllImport(Torch, EntryPoint = "vdExp")] private static extern void VdExp(int n, double* a, double* r);

    /// <summary>r = tanh(a) elementwise, by MKL's vector math (in place when r is a).</summary>
    public static void Tanh<T>(T* a, T* r, int n) where T : unmanaged
    {
        if (typeof(T) == typeof(float)) VsTanh(n, (float*)a, (float*)r);
        else if (typeof(T) == typeof(double)) VdTanh(n, (double*)a, (double*)r);
        else throw new NotSupportedException($"no tanh for {typeof(T).Name}");
    }

    /// <summary>r = exp(a) elementwise, by MKL's vector math (in place when r is a).</summary>
    public static void Exp<T>(T* a, T* r, int n) where T : unmanaged
    {
        if (typeof(T) == typeof(float)) VsExp(n, (float*)a, (float*)r);
        else if (typeof(T) == typeof(double)) VdExp(n, (double*)a, (double*)r);
        else throw new NotSupportedException($"no exp for {typeof(T).Name}");
    }

    // The C entry point, which takes the count by value; the lower-case one is Fortran's, by reference.
    [DllImport(Torch, EntryPoint = "MKL_Set_Num_Threads_Local")] private static extern int MklSetNumThreadsLocal(int threads);

    /// <summary>How many threads MKL uses for calls from this thread (0: the process's setting again); returns the previous value.</summary>
    public static int SetThreadsHere(int threads) => MklSetNumThreadsLocal(threads);

    [DllImport("LibTorchSharp", EntryPoint = "THSTensor_data")]
    private static extern IntPtr TensorData(IntPtr tensor);

    /// <summary>The first element of a contiguous CPU tensor.</summary>
    public static T* Data<T>(Tensor tensor) where T : unmanaged => (T*)TensorData(tensor.Handle);

    /// <summary>C = op(A) op(B) + beta C: op(A) is m x k, op(B) k x n, C m x n, each row-major with its leading dimension.</summary>
    public static void Gemm<T>(bool transA, bool transB, int m, int n, int k, T* a, int lda, T* b, int ldb, double beta, T* c, int ldc)
        where T : unmanaged
    {
        // libtorch exports MKL's batched CBLAS GEMM, not the plain one: a batch of one.
        int one = 1;
        nint pa = (nint)a, pb = (nint)b, pc = (nint)c;
        int ta = transA ? Trans : NoTrans, tb = transB ? Trans : NoTrans;
        if (typeof(T) == typeof(float))
        {
            float alpha = 1, betaF = (float)beta;
            SgemmBatch(RowMajor, &ta, &tb, &m, &n, &k, &alpha, (float**)&pa, &lda, (float**)&pb, &ldb, &betaF, (float**)&pc, &ldc, 1, &one);
        }
        else if (typeof(T) == typeof(double))
        {
            double alpha = 1;
            DgemmBatch(RowMajor, &ta, &tb, &m, &n, &k, &alpha, (double**)&pa, &lda, (double**)&pb, &ldb, &beta, (double**)&pc, &ldc, 1, &one);
        }
        else throw new NotSupportedException($"no GEMM for {typeof(T).Name}");
    }
}
