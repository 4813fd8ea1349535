// Torch tests run one at a time: torch's thread count is process-wide, and trainers running side by
// side in one process would share one no-GC region (see NativeCallGuard) and reopen the
// TorchSharp Scalar finalizer race. Training processes in MannLab run one trainer each.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
