import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A file opened for positioned reads (`pread`), closed when released. Every short read is an
/// error naming the file: checkpoint readers validate ranges first, so a short read means the file
/// changed or lied about its size.
public final class ReadOnlyFile {
    public let path: String
    public let descriptor: Int32
    public let size: Int

    public init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ExportError("\(path): cannot open (\(String(cString: strerror(errno))))") }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            close(fd)
            throw ExportError("\(path): cannot stat (\(String(cString: strerror(errno))))")
        }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw ExportError("\(path): is a folder, expected a file")
        }
        descriptor = fd
        size = Int(st.st_size)
    }

    deinit { close(descriptor) }

    /// Fills `buffer` from `offset`; fails if the file ends first.
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int) throws {
        var done = 0
        while done < buffer.count {
            guard let base = buffer.baseAddress else { return }
            let n = pread(descriptor, base + done, buffer.count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw ExportError("\(path): read failed at offset \(offset + done) (\(String(cString: strerror(errno))))")
            }
            if n == 0 {
                throw ExportError("\(path): file ends at byte \(offset + done), expected \(buffer.count - done) more bytes at offset \(offset)")
            }
            done += n
        }
    }

    /// Runs `body` on `count` bytes from `offset` mapped read-only from the page cache (populated
    /// up front), which spares transposes and conversions a copy of their source; a range past the
    /// end of the file is an error, and where mapping fails the bytes are read instead.
    public func withMappedBytes<R>(at offset: Int, count: Int, _ body: (UnsafeRawBufferPointer) throws -> R) throws -> R {
        // The size now, not at open: touching a mapped page past the end of a file truncated since
        // then faults (SIGBUS) where `read` would return an error.
        var st = stat()
        let sizeNow = fstat(descriptor, &st) == 0 ? Int(st.st_size) : size
        guard offset >= 0, count >= 0, offset + count <= min(size, sizeNow) else {
            throw ExportError("\(path): bytes \(offset)..<\(offset + count) are past the end of the file (\(min(size, sizeNow)) bytes)")
        }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = offset / page * page
        let length = offset + count - start
        guard count > 0, let mapping = mmap(nil, length, PROT_READ, MAP_PRIVATE | MAP_POPULATE, descriptor, off_t(start)),
              mapping != MAP_FAILED else {
            // No mapping (an empty range, or a file system without mmap): read into a buffer of our own.
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, 1), alignment: 64)
            defer { buffer.deallocate() }
            try read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<count]), at: offset)
            return try body(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
        }
        defer { munmap(mapping, length) }
        return try body(UnsafeRawBufferPointer(start: mapping + (offset - start), count: count))
    }

    /// The whole of a small file (a config, an index), refused past `limit` bytes so a huge or
    /// endless file (`/dev/zero`) is an error, not an allocation of its size. Unlike
    /// `FileManager.contents(atPath:)`, which leaks a buffer on empty files, this reads with `pread`.
    public static func contents(of path: String, atMost limit: Int, what: String) throws -> [UInt8] {
        let file = try ReadOnlyFile(path: path)
        guard file.size <= limit else {
            throw ExportError("\(path): is \(file.size) bytes, more than the \(limit) \(what) can need")
        }
        return try file.readBytes(at: 0, count: file.size)
    }

    public func readBytes(at offset: Int, count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        try bytes.withUnsafeMutableBytes { try read(into: $0, at: offset) }
        return bytes
    }
}
