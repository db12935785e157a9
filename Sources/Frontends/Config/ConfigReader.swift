import Foundation
import ONNXExportIR

/// Typed access to a model config (`config.json` and its originals), one line per field with the
/// default transformers uses, and errors that name the file and the key:
/// `config.json: 'hidden_size' must be an integer, found "768"`.
public struct ConfigReader {
    public let origin: String
    public let fields: [String: Any]

    /// Configs are a few kilobytes; 64 MiB leaves room for any vocabulary a config embeds.
    static let maximumFileSize = 64 << 20

    public init(origin: String, fields: [String: Any]) { self.origin = origin; self.fields = fields }

    /// Parses `data` as a JSON object.
    public init(origin: String, data: Data) throws {
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        } catch {
            throw ExportError("\(origin): not valid JSON (\(Self.reason(error)))")
        }
        guard let object = parsed as? [String: Any] else {
            throw ExportError("\(origin): expected a JSON object at the top level")
        }
        self.init(origin: origin, fields: object)
    }

    /// Reads and parses a config file.
    public init(file path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw ExportError("\(path): no such file") }
        try self.init(origin: path, data: Data(try ReadOnlyFile.contents(of: path, atMost: Self.maximumFileSize, what: "a config")))
    }

    public func has(_ key: String) -> Bool { fields[key] != nil && !(fields[key] is NSNull) }

    public func int(_ key: String, default value: Int? = nil) throws -> Int {
        guard let raw = present(key) else { return try fallback(key, value) }
        if let n = raw as? NSNumber, !isBool(n), let i = Int(exactly: n.doubleValue) { return i }
        throw mismatch(key, "an integer", raw)
    }

    public func double(_ key: String, default value: Double? = nil) throws -> Double {
        guard let raw = present(key) else { return try fallback(key, value) }
        if let n = raw as? NSNumber, !isBool(n) { return n.doubleValue }
        throw mismatch(key, "a number", raw)
    }

    public func string(_ key: String, default value: String? = nil) throws -> String {
        guard let raw = present(key) else { return try fallback(key, value) }
        if let s = raw as? String { return s }
        throw mismatch(key, "a string", raw)
    }

    public func bool(_ key: String, default value: Bool? = nil) throws -> Bool {
        guard let raw = present(key) else { return try fallback(key, value) }
        if let n = raw as? NSNumber, isBool(n) { return n.boolValue }
        throw mismatch(key, "true or false", raw)
    }

    /// A nested object (`rope_scaling`, `rope_parameters`), nil when absent or null.
    public func object(_ key: String) throws -> ConfigReader? {
        guard let raw = present(key) else { return nil }
        guard let fields = raw as? [String: Any] else { throw mismatch(key, "an object", raw) }
        return ConfigReader(origin: "\(origin) '\(key)'", fields: fields)
    }

    /// A list of numbers (longrope's `short_factor`); any other element is refused.
    public func doubles(_ key: String) throws -> [Double] {
        let numbers = try list(key, of: "numbers") { item -> Double? in
            guard let n = item as? NSNumber, !isBool(n) else { return nil }
            return n.doubleValue
        }
        return try numbers ?? fallback(key, nil)
    }

    /// A list of strings (Qwen's `layer_types`), nil when absent or null; any other element is refused.
    public func optionalStrings(_ key: String) throws -> [String]? {
        try list(key, of: "strings") { $0 as? String }
    }

    /// A list of integers (Transformer-XL's `cutoffs`), nil when absent or null; fractions and
    /// other elements are refused.
    public func optionalInts(_ key: String) throws -> [Int]? {
        try list(key, of: "integers") { item -> Int? in
            guard let n = item as? NSNumber, !isBool(n) else { return nil }
            return Int(exactly: n.doubleValue)
        }
    }

    /// A list of booleans (Transformer-XL's `tie_projs`), nil when absent or null.
    public func optionalBools(_ key: String) throws -> [Bool]? {
        try list(key, of: "true/false values") { item -> Bool? in
            guard let n = item as? NSNumber, isBool(n) else { return nil }
            return n.boolValue
        }
    }

    /// The list at `key` with every element converted by `element` (nil: the wrong kind, refused);
    /// nil when the key is absent or null.
    private func list<T>(_ key: String, of kind: String, _ element: (Any) -> T?) throws -> [T]? {
        guard let raw = present(key) else { return nil }
        guard let items = raw as? [Any] else { throw mismatch(key, "a list of \(kind)", raw) }
        return try items.map { item in
            guard let value = element(item) else { throw mismatch(key, "a list of \(kind)", raw) }
            return value
        }
    }

    /// An optional number: nil when absent or null.
    public func optionalDouble(_ key: String) throws -> Double? { has(key) ? try double(key) : nil }

    /// An optional integer: nil when absent or null.
    public func optionalInt(_ key: String) throws -> Int? { has(key) ? try int(key) : nil }
    public func optionalString(_ key: String) throws -> String? { has(key) ? try string(key) : nil }

    /// A positive integer (sizes, counts): zero or negative values are refused.
    public func positiveInt(_ key: String, default value: Int? = nil) throws -> Int {
        let n = try int(key, default: value)
        guard n > 0 else { throw ExportError("\(origin): '\(key)' must be positive, found \(n)") }
        return n
    }

    /// The product of sizes read from the config (heads × head_dim, 4 × n_embd), refused when it
    /// overflows instead of trapping: a hostile config must not crash the exporter.
    public func product(_ factors: [Int], of fields: String) throws -> Int {
        try factors.reduce(1) { total, factor in
            let (value, overflow) = total.multipliedReportingOverflow(by: factor)
            guard !overflow else { throw ExportError("\(origin): \(fields) overflows (\(factors.map(String.init).joined(separator: " × ")))") }
            return value
        }
    }

    /// The sum of sizes read from the config, refused when it overflows (see `product`).
    public func sum(_ terms: [Int], of fields: String) throws -> Int {
        try terms.reduce(0) { total, term in
            let (value, overflow) = total.addingReportingOverflow(term)
            guard !overflow else { throw ExportError("\(origin): \(fields) overflows (\(terms.map(String.init).joined(separator: " + ")))") }
            return value
        }
    }

    private func present(_ key: String) -> Any? {
        guard let v = fields[key], !(v is NSNull) else { return nil }
        return v
    }

    private func fallback<T>(_ key: String, _ value: T?) throws -> T {
        guard let value else { throw ExportError("\(origin): required key '\(key)' is missing") }
        return value
    }

    private func mismatch(_ key: String, _ expected: String, _ found: Any) -> ExportError {
        ExportError("\(origin): '\(key)' must be \(expected), found \(String(describing: found).prefix(60))")
    }

    /// JSONSerialization gives booleans as NSNumbers of ObjC type `c`; JSON numbers never are.
    private func isBool(_ n: NSNumber) -> Bool { String(cString: n.objCType) == "c" }

    private static func reason(_ error: Error) -> String {
        let ns = error as NSError
        return (ns.userInfo[NSDebugDescriptionErrorKey] as? String) ?? ns.localizedDescription
    }
}
