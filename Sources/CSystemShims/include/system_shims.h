#ifndef ONNX_EXPORT_SYSTEM_SHIMS_H
#define ONNX_EXPORT_SYSTEM_SHIMS_H
#include <stddef.h>
#include <sys/types.h>

/// copy_file_range(2), which Glibc only declares under _GNU_SOURCE. Returns bytes copied or -1 (errno set).
ssize_t oe_copy_file_range(int fd_in, long long *off_in, int fd_out, long long *off_out, size_t len);

#endif
