import ONNXExportIR

/// A checkpoint of facebookresearch/XLM (`mlm_en_2048.pth`, `mlm_tlm_xnli15_1024.pth`, ...): one
/// `torch.save` dict, in the legacy format for the 2019 releases and zip for newer saves, holding
/// `model` (the state dict), `params` (the training arguments), `dico_word2id`, `dico_id2word` and
/// `dico_counts`. Read as transformers' `convert_xlm_original_pytorch_checkpoint_to_pytorch.py`
/// reads it, and turned into what that script writes:
///
/// - the weights under transformers' names: `transformer.` before every key except those
///   containing `pred_layer` (the LM head sits beside the base model), tensors unchanged;
/// - `config.json`: `params` in its own order without its tensors and NumPy arrays (the script
///   drops `torch.FloatTensor` and `numpy.ndarray` values), written as `json.dumps(config, indent=2)`,
///   plus `"model_type": "xlm"`, which the script left out so `from_pretrained` could not load it;
/// - `vocab.json`: `s + "</w>"` for a word without `@@` whose id is above 13 (ids 0-13 are XLM's
///   special symbols), else `s` with `@@` removed; later words replace earlier ones that map to the
///   same string in place, as in a Python dict.
///
/// `params` holds more than plain data in real checkpoints (`pred_probs` is a tensor, `mask_scores`
/// a NumPy array): those are placeholders the unpickler never built (`PickleOpaqueGlobal`), left
/// out of `config.json` with a note each; so is any value JSON cannot hold, where the script fails.
public struct XLMOriginalCheckpoint {
    public let path: String
    /// The weights under transformers' names (lazy: regions of the checkpoint file).
    public let tensors: [String: TensorData]
    /// `config.json` as the script writes it, plus `model_type`.
    public let configJSON: String
    /// `vocab.json` as the script writes it.
    public let vocabJSON: String
    /// What was left out of `config.json`, and why.
    public let notes: [String]
    /// "legacy torch.save" or "torch.save zip".
    public let fileFormat: String

    /// Ids up to this one are XLM's special symbols (`<s>`, `</s>`, `<pad>`, `<unk>`, `<special0-9>`).
    static let lastSpecialID = 13

    public init(path: String) throws {
        self.path = path
        let saved = try PyTorchSavedFile(path: path)
        let heap = saved.heap
        fileFormat = saved.kind == .legacy ? "legacy torch.save" : "torch.save zip"
        guard case .dict(let rootIndex) = saved.root else {
            throw ExportError("\(path): holds \(saved.root.kindName), expected XLM's checkpoint dict (model, params, dico_word2id, ...)")
        }
        let root = heap.dicts[rootIndex]
        func entry(_ key: String, _ what: String) throws -> Int {
            guard let value = root.value(forString: key) else {
                let keys = root.entries.prefix(12).map { if case .string(let s) = $0.key { return "'\(s)'" } else { return $0.key.kindName } }
                throw ExportError("\(path): the checkpoint dict has no '\(key)' (\(what)); it holds \(keys.joined(separator: ", "))"
                    + (root.entries.count > 12 ? ", ..." : "") + ". Is this one of facebookresearch/XLM's pretrained model files?")
            }
            guard case .dict(let index) = value else {
                throw ExportError("\(path): the checkpoint's '\(key)' is \(value.kindName), expected a dict (\(what))")
            }
            return index
        }
        let model = try entry("model", "the state dict")
        let params = try entry("params", "the training arguments")
        let words = try entry("dico_word2id", "the vocabulary")

        tensors = try Self.weights(saved, model: model)
        var notes: [String] = []
        configJSON = try Self.config(heap, params: params, path: path, notes: &notes)
        vocabJSON = try Self.vocab(heap, words: words, path: path)
        self.notes = notes
    }

    /// `model`'s tensors, renamed; any entry that is not a tensor is refused.
    private static func weights(_ saved: PyTorchSavedFile, model: Int) throws -> [String: TensorData] {
        for (key, value) in saved.heap.dicts[model].entries {
            guard case .string(let name) = key else {
                throw ExportError("\(saved.path): the state dict 'model' has \(key.kindName) key; weight names are str")
            }
            guard case .tensor = value else {
                throw ExportError("\(saved.path): the state dict 'model' holds \(value.kindName) under '\(name)', expected a tensor")
            }
        }
        var renamed: [String: TensorData] = [:]
        for (name, tensor) in try saved.stateDict(.dict(model)) {
            renamed[name.contains("pred_layer") ? name : "transformer." + name] = tensor
        }
        return renamed
    }

    /// `config.json`: the JSON-representable entries of `params`, in order, then `model_type`.
    private static func config(_ heap: PickleHeap, params: Int, path: String, notes: inout [String]) throws -> String {
        var members: [OrderedJSON.Member] = []
        for (key, value) in heap.dicts[params].entries {
            guard case .string(let name) = key else {
                throw ExportError("\(path): 'params' has \(key.kindName) key; training arguments are named by str")
            }
            if case .tensor = value {
                notes.append("params['\(name)'] is a tensor: left out of config.json, as transformers' script leaves out tensors")
                continue
            }
            do {
                members.append(.init(key: name, value: try heap.json(value)))
            } catch let error as PickleHeap.NotJSON {
                let also = value.isOpaqueArray ? ", as transformers' script leaves out NumPy arrays" : " (transformers' script fails on it)"
                notes.append("params['\(name)'] holds \(error.reason), which JSON cannot hold: left out of config.json\(also)")
            }
        }
        if !members.contains(where: { $0.key == "model_type" }) {
            members.append(.init(key: "model_type", value: .string("xlm")))
        }
        return PythonJSON.dumps(.object(members)) + "\n"
    }

    /// `vocab.json` from `dico_word2id` (str → int). Tokens are told apart by code points, as
    /// Python's dict does (Swift's `==` equates canonically equivalent strings).
    private static func vocab(_ heap: PickleHeap, words: Int, path: String) throws -> String {
        var members: [OrderedJSON.Member] = []
        var position: [[Unicode.Scalar]: Int] = [:]
        for (key, value) in heap.dicts[words].entries {
            guard case .string(let word) = key, case .int(let id) = value else {
                throw ExportError("\(path): 'dico_word2id' maps \(key.kindName) to \(value.kindName), expected str → int")
            }
            let (stripped, hadMarker) = withoutBPEMarkers(word)
            let token = !hadMarker && id > lastSpecialID ? word + "</w>" : stripped
            let scalars = Array(token.unicodeScalars)
            if let existing = position[scalars] {
                members[existing].value = .number(String(id))
            } else {
                position[scalars] = members.count
                members.append(.init(key: token, value: .number(String(id))))
            }
        }
        return PythonJSON.dumps(.object(members)) + "\n"
    }
}

/// `word.replace("@@", "")` and whether `"@@" in word`, on code points as Python does them (Swift's
/// string search works on characters, where "@@" before a combining mark would not match).
private func withoutBPEMarkers(_ word: String) -> (String, Bool) {
    var out = String.UnicodeScalarView()
    var found = false
    var pendingAt = false
    for scalar in word.unicodeScalars {
        if scalar == "@" {
            if pendingAt { pendingAt = false; found = true } else { pendingAt = true }
            continue
        }
        if pendingAt { out.append("@"); pendingAt = false }
        out.append(scalar)
    }
    if pendingAt { out.append("@") }
    return (String(out), found)
}

private extension PickleValue {
    var isOpaqueArray: Bool { self == .opaque(PickleOpaqueGlobal.ndarray.description) }
}
