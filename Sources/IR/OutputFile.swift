import CSystemShims
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A file being written (models, data files, converted checkpoints): small pieces are buffered, weight bytes from checkpoint files move with
/// `copy_file_range` (kernel to kernel, no user memory), with a chunked read/write fallback when
/// the kernel refuses (another filesystem, an old kernel).
public final class OutputFile: TensorByteSink {
    public let path: String
    private let fd: Int32
    private var buffer: [UInt8] = []
    private let bufferLimit = 1 << 20
    public private(set) var position = 0
    private var sources: [String: ReadOnlyFile] = [:]
    /// Counts the bytes written while `counting` runs (weight payloads, for progress reports).
    private var meter: ProgressMeter?
    /// Bytes one `copy_file_range` call moves at most: small enough that progress moves several
    /// times a second even through a single large tensor, large enough that the calls cost nothing.
    static let copyChunk = 64 << 20

    public init(path: String) throws {
        self.path = path
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ExportError("\(path): cannot create (\(String(cString: strerror(errno))))") }
        buffer.reserveCapacity(bufferLimit)
    }

    deinit { close(fd) }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        if buffer.count + bytes.count > bufferLimit { try flush() }
        if bytes.count >= bufferLimit {
            try writeAll(bytes)
        } else {
            buffer.append(contentsOf: bytes)
        }
        position += bytes.count
        meter?.add(bytes.count)
    }

    /// Runs `body`, counting every byte it writes into `meter` (nil: nothing counted).
    public func counting(into meter: ProgressMeter?, _ body: () throws -> Void) rethrows {
        self.meter = meter
        defer { self.meter = nil }
        try body()
    }

    public func write(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try write($0) } }

    public func writeZeros(_ count: Int) throws { try write([UInt8](repeating: 0, count: count)) }

    public func copy(from region: FileRegion) throws {
        try flush()
        let source = try sourceFile(region.path)
        guard region.offset >= 0, region.offset + region.length <= source.size else {
            throw ExportError("\(region.path): bytes [\(region.offset), \(region.offset + region.length)) lie past the end of the file (\(source.size) bytes)")
        }
        var inOffset = Int64(region.offset)
        var remaining = region.length
        while remaining > 0 {
            let n = oe_copy_file_range(source.descriptor, &inOffset, fd, nil, min(remaining, Self.copyChunk))
            if n < 0 {
                if errno == EINTR { continue }
                if [EXDEV, EINVAL, ENOSYS, EOPNOTSUPP, EBADF].contains(errno) {
                    // What the kernel already moved is counted; `write` counts the rest.
                    try copyByReading(FileRegion(path: region.path, offset: Int(inOffset), length: remaining))
                    return
                }
                throw ExportError("\(path): copying from \(region.path) failed (\(String(cString: strerror(errno))))")
            }
            if n == 0 { throw ExportError("\(region.path): file ended while copying \(region.length) bytes at offset \(region.offset)") }
            remaining -= n
            position += n
            meter?.add(n)
        }
    }

    public func flush() throws {
        guard !buffer.isEmpty else { return }
        try buffer.withUnsafeBytes { try writeAll($0) }
        buffer.removeAll(keepingCapacity: true)
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            guard let base = bytes.baseAddress else { return }
            let n = Glibc.write(fd, base + done, min(bytes.count - done, 0x7fff_f000))
            if n < 0 {
                if errno == EINTR { continue }
                throw ExportError("\(path): write failed (\(String(cString: strerror(errno))))")
            }
            done += n
        }
    }

    private func sourceFile(_ path: String) throws -> ReadOnlyFile {
        if let f = sources[path] { return f }
        let f = try ReadOnlyFile(path: path)
        sources[path] = f
        return f
    }
}
