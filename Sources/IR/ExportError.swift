/// The one error type the pipeline throws for bad input: a sentence that names the file, tensor or
/// key and what was expected. The CLI prints `description` and exits non-zero.
public struct ExportError: Error, CustomStringConvertible, Equatable, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
