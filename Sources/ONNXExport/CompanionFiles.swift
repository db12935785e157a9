import Foundation
import ONNXExportFrontends
import ONNXExportIR

/// The files a deployment needs beside the weights, for exports and conversions alike: the
/// config in transformers' form and the tokenizer files under the names transformers looks for.
enum CompanionFiles {
    /// Tokenizer and generation files: copied as they are, except GPT-2's original
    /// `encoder.json` / `vocab.bpe`, which transformers calls `vocab.json` / `merges.txt`, and
    /// Google ALBERT's SentencePiece model `30k-clean.model`, which it calls `spiece.model`.
    static let tokenizer: [(source: String, target: String)] = [
        ("generation_config.json", "generation_config.json"), ("tokenizer.json", "tokenizer.json"),
        ("tokenizer_config.json", "tokenizer_config.json"), ("special_tokens_map.json", "special_tokens_map.json"),
        ("added_tokens.json", "added_tokens.json"), ("vocab.txt", "vocab.txt"), ("vocab.json", "vocab.json"),
        ("merges.txt", "merges.txt"), ("encoder.json", "vocab.json"), ("vocab.bpe", "merges.txt"),
        ("spiece.model", "spiece.model"), ("sentencepiece.bpe.model", "sentencepiece.bpe.model"), ("tokenizer.model", "tokenizer.model"),
        ("30k-clean.model", "spiece.model"),
    ]

    /// Writes `config.json` (a transformers `config.json` is copied byte for byte; an original one
    /// such as `bert_config.json` is written translated) and copies the tokenizer files of `folder`.
    static func write(config: ConfigReader, from folder: String, to target: String) throws -> [String] {
        var written: [String] = []
        let configTarget = (target as NSString).appendingPathComponent("config.json")
        if (config.origin as NSString).lastPathComponent == "config.json", FileManager.default.fileExists(atPath: config.origin) {
            try copy(config.origin, to: configTarget)
        } else {
            try write(try JSONSerialization.data(withJSONObject: config.fields, options: [.prettyPrinted, .sortedKeys]), to: configTarget)
        }
        written.append(configTarget)
        for (source, name) in tokenizer {
            let from = (folder as NSString).appendingPathComponent(source)
            let to = (target as NSString).appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: from), !written.contains(to) else { continue }
            try copy(from, to: to)
            written.append(to)
        }
        return written
    }

    /// Writes each `(name, text)` into `folder` (a converted config, XLM's vocabulary); returns the paths.
    static func write(texts files: [(name: String, text: String)], into folder: String) throws -> [String] {
        try files.map { try write(Data($0.text.utf8), to: (folder as NSString).appendingPathComponent($0.name)) }
    }

    /// Writes a small file (a translated config, XLM's vocabulary) whole; returns its path.
    @discardableResult
    static func write(_ data: Data, to path: String) throws -> String {
        do { try data.write(to: URL(fileURLWithPath: path), options: .atomic) } catch {
            throw ExportError("\(path): cannot write (\(error.localizedDescription))")
        }
        return path
    }

    static func copy(_ source: String, to target: String) throws {
        if (source as NSString).standardizingPath == (target as NSString).standardizingPath { return }
        do {
            if FileManager.default.fileExists(atPath: target) { try FileManager.default.removeItem(atPath: target) }
            try FileManager.default.copyItem(atPath: source, toPath: target)
        } catch {
            throw ExportError("\(target): cannot copy \(source) (\(error.localizedDescription))")
        }
    }
}
