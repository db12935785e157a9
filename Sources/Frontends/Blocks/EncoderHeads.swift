import ONNXExportIR

/// Heads several encoder families share, as transformers writes them.
extension GraphBuilder {
    /// `hidden[:, 0]`: the first (`[CLS]` / `<s>`) token of every row.
    public func firstToken(_ hidden: Value) throws -> Value {
        try select(hidden, axis: 1, index: 0, name: "FirstToken")
    }

    /// `BertPooler` and its kin (ALBERT's, MPNet's, DeBERTa's `ContextPooler`): first token →
    /// dense → activation (tanh, or DeBERTa's `pooler_hidden_act`).
    public func firstTokenPooler(_ hidden: Value, dense: Weights, activation: Activation = .tanh) throws -> Value {
        let first = try firstToken(hidden)
        let name = dense.prefix.components(separatedBy: ".").last ?? "dense"
        return try self.activation(try scope(name) { try linear(first, dense) }, activation)
    }

    /// `RobertaClassificationHead` and its kin (ELECTRA's, MPNet's): first token → `dense` →
    /// activation → `out_proj`, under `head` (`classifier`).
    public func firstTokenClassifier(_ hidden: Value, head: Weights, activation: Activation) throws -> Value {
        try scope(head.prefix.components(separatedBy: ".").last ?? "classifier") {
            let dense = try self.activation(try scope("dense") { try linear(try firstToken(hidden), head.scope("dense")) }, activation)
            return try scope("out_proj") { try linear(dense, head.scope("out_proj")) }
        }
    }

    /// The masked-LM transform shared by BERT, RoBERTa, DistilBERT and ELECTRA:
    /// dense → activation → LayerNorm → projection on the tied word embeddings (+ bias).
    public func maskedLMHead(_ hidden: Value, dense: Weights, activation: Activation, norm: Weights, epsilon: Double,
                             decoder: Weights, tiedEmbedding: Value, bias: Weights?, tied: Bool) throws -> Value {
        let transformed = try scope(dense.prefix.components(separatedBy: ".").last ?? "dense") {
            try self.activation(try linear(hidden, dense), activation)
        }
        let normed = try scope(norm.prefix.components(separatedBy: ".").last ?? "LayerNorm") {
            try layerNorm(transformed, norm, epsilon: epsilon)
        }
        return try scope(decoder.prefix.components(separatedBy: ".").last ?? "decoder") {
            var logits: Value
            if tied || !decoder.has("weight") {
                logits = try tiedProjection(normed, table: tiedEmbedding)
            } else {
                logits = try linear(normed, decoder, bias: false)
            }
            // The decoder's own bias is what `nn.Linear` adds; transformers ties it to the head's
            // `bias` only when the embeddings are tied, so a checkpoint may store either name.
            if decoder.has("bias") {
                logits = try add(logits, try decoder.value("bias", rank: 1, in: self))
            } else if let bias, bias.has("bias") {
                logits = try add(logits, try bias.value("bias", rank: 1, in: self))
            }
            return logits
        }
    }
}

extension GraphBuilder {
    /// `RobertaLMHead` and `MPNetLMHead` (under `lm`, `lm_head`): dense → exact GELU whatever
    /// `hidden_act` says → `layer_norm` → decoder tied to the word embeddings, bias `lm_head.bias`.
    public func robertaStyleLMHead(_ hidden: Value, _ lm: Weights, wordTable: Value, epsilon: Double, tied: Bool) throws -> Value {
        try scope("lm_head") {
            try maskedLMHead(hidden, dense: lm.scope("dense"), activation: .gelu, norm: lm.scope("layer_norm"), epsilon: epsilon,
                             decoder: lm.scope("decoder"), tiedEmbedding: wordTable, bias: lm, tied: tied)
        }
    }
}

extension GraphBuilder {
    /// The heads every encoder family writes the same way: token classification (`classifier` on
    /// every token) and question answering (`qa_outputs`, two logits per token). Other tasks are
    /// the architecture's own.
    public func sharedEncoderHead(_ task: Task, hidden: Value, _ root: Weights) throws -> Value {
        switch task {
        case .tokenClassification: return try linearHead(hidden, root, named: "classifier")
        case .questionAnswering: return try linearHead(hidden, root, named: "qa_outputs")
        default: throw ExportError("\(task.rawValue) is not an encoder task this architecture supports")
        }
    }
}
