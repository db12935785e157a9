#define _GNU_SOURCE
#include <unistd.h>
#include <fcntl.h>
#include "system_shims.h"

ssize_t oe_copy_file_range(int fd_in, long long *off_in, int fd_out, long long *off_out, size_t len) {
    loff_t in = off_in ? (loff_t)*off_in : 0;
    loff_t out = off_out ? (loff_t)*off_out : 0;
    ssize_t n = copy_file_range(fd_in, off_in ? &in : NULL, fd_out, off_out ? &out : NULL, len, 0);
    if (off_in) *off_in = in;
    if (off_out) *off_out = out;
    return n;
}
