//! Runtime lock-contention profiler (see issue: the profiler).
