import Foundation

/// Two reusable buffers for transforms that must touch weight bytes (transposes; the quantizer
/// keeps an instance of its own for widened pieces of its sources). Allocating
/// fresh tens of MB per tensor costs more in page faults and zeroing than the transpose itself
/// (measured on a 4.4 GB LLaMA export), so the buffers grow to the largest tensor and stay.
/// A caller that finds them busy (another export on another thread) gets temporary ones.
final class ScratchBuffers: @unchecked Sendable {
    static let shared = ScratchBuffers()

    private let lock = NSLock()
    private var first = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    private var second = UnsafeMutableRawBufferPointer(start: nil, count: 0)

    func with<R>(_ firstSize: Int, _ secondSize: Int,
                 _ body: (UnsafeMutableRawBufferPointer, UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
        guard lock.try() else {
            let a = UnsafeMutableRawBufferPointer.allocate(byteCount: max(firstSize, 1), alignment: 64)
            let b = UnsafeMutableRawBufferPointer.allocate(byteCount: max(secondSize, 1), alignment: 64)
            defer { a.deallocate(); b.deallocate() }
            return try body(UnsafeMutableRawBufferPointer(rebasing: a[0..<firstSize]), UnsafeMutableRawBufferPointer(rebasing: b[0..<secondSize]))
        }
        defer { lock.unlock() }
        Self.grow(&first, to: firstSize)
        Self.grow(&second, to: secondSize)
        return try body(UnsafeMutableRawBufferPointer(rebasing: first[0..<firstSize]),
                        UnsafeMutableRawBufferPointer(rebasing: second[0..<secondSize]))
    }

    private static func grow(_ buffer: inout UnsafeMutableRawBufferPointer, to size: Int) {
        guard buffer.count < size else { return }
        if buffer.baseAddress != nil { buffer.deallocate() }
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 64)
    }
}
