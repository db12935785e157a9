/// Makes every distinct tensor one value: two constants with the same bytes source (the same file
/// range and transforms, or equal inline bytes) are merged, so a tied embedding is stored once.
public enum DeduplicateWeights {
    @discardableResult
    public static func run(_ graph: Graph) -> Int {
        var first: [TensorData: Value] = [:]
        var merged = 0
        for (v, data) in graph.constants {
            if let keep = first[data] {
                graph.replaceUses(of: v, with: keep)
                merged += 1
            } else {
                first[data] = v
            }
        }
        return merged
    }
}
