/// Splits one fuzz input into the several files a reader needs (an index and its data, a
/// `params_shapes.json` and its `.npy` parts): each part but the last is a little-endian
/// `UInt32` length and that many bytes; the last part is what remains. Lengths past the end are
/// cut short, so every input splits into exactly `count` parts.
///
/// `Fuzz/make_seeds.py` packs fixtures the same way for the seed corpora.
public enum FuzzInputParts {
    public static func split(_ input: [UInt8], count: Int) -> [ArraySlice<UInt8>] {
        var parts: [ArraySlice<UInt8>] = []
        var rest = input[...]
        for _ in 0..<max(count - 1, 0) {
            let prefix = rest.prefix(4)
            rest = rest.dropFirst(prefix.count)
            let length = prefix.reversed().reduce(0) { $0 << 8 | Int($1) }
            parts.append(rest.prefix(length))
            rest = rest.dropFirst(length)
        }
        parts.append(rest)
        return parts
    }
}
