import Dispatch
import Foundation

/// Splits CPU-bound byte work (transposes, float conversions) over the cores: the writer's thread
/// spends its time in the kernel, so one core alone would bound an export that must touch bytes.
enum CoreShares {
    /// Runs `body` on contiguous shares of `0..<count`, one per core, each at least
    /// `minimumShare` long; on the whole range at once when `worthSplitting` is false.
    static func run(_ count: Int, worthSplitting: Bool, minimumShare: Int = 1, _ body: (Range<Int>) -> Void) {
        let parts = worthSplitting ? min(ProcessInfo.processInfo.activeProcessorCount, max(1, count / minimumShare)) : 1
        guard parts > 1 else { body(0..<count); return }
        let share = (count + parts - 1) / parts
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            let start = part * share, end = min(count, start + share)
            if start < end { body(start..<end) }
        }
    }
}
