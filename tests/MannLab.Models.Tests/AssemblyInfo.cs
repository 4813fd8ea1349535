// Torch tests run one at a time: torch's thread count is process-wide.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
