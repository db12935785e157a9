import ONNXExportIR

/// The files of an encoder-decoder export, named, laid out and with the inputs and outputs the
/// optimum exporter gives them, so `ORTModelForSeq2SeqLM` loads the folder:
///
/// - `encoder_model.onnx`: `input_ids`, `attention_mask` `[batch_size, encoder_sequence_length]`
///   → `last_hidden_state` `[batch_size, encoder_sequence_length, hidden]`.
/// - `decoder_model.onnx` (the first step): `encoder_attention_mask`, `input_ids`
///   `[batch_size, decoder_sequence_length]`, `encoder_hidden_states` → `logits` and, per layer,
///   `present.N.decoder.key|value` `[batch_size, heads, decoder_sequence_length, head_dim]` and
///   `present.N.encoder.key|value` `[batch_size, heads, encoder_sequence_length, head_dim]`.
/// - `decoder_with_past_model.onnx` (later steps): `past_key_values.N.decoder.key|value`
///   `[batch_size, heads, past_decoder_sequence_length, head_dim]` and
///   `past_key_values.N.encoder.key|value` instead of `encoder_hidden_states` → `logits` and
///   `present.N.decoder.*` over `past_decoder_sequence_length + decoder_sequence_length`.
/// - `decoder_model_merged.onnx`: both decoders in one graph, chosen by the bool input
///   `use_cache_branch` `[1]`; it takes every input of both, and the cache branch passes the
///   cross-attention cache through as `present.N.encoder.*`. The first step is fed empty
///   (length 0) self-attention pasts, as optimum does.
///
/// `feature-extraction` is the encoder alone, as `model.onnx`.
public enum Seq2SeqTaskGraph {
    public static let encoderLength = Dim.symbol("encoder_sequence_length")
    public static let decoderLength = Dim.symbol("decoder_sequence_length")
    public static let pastDecoderLength = Dim.symbol("past_decoder_sequence_length")
    /// The files of `text2text-generation-with-past`, in the order written.
    public static let fileNames = ["encoder_model.onnx", "decoder_model.onnx", "decoder_with_past_model.onnx", "decoder_model_merged.onnx"]

    static func parts(_ model: Seq2SeqModel, task: Task, name: String) throws -> [ExportPart] {
        switch task {
        case .featureExtraction:
            return [.graph(fileName: "model.onnx", try encoder(model, name: name))]
        case .text2textGeneration, .text2textGenerationWithPast:
            var parts: [ExportPart] = [
                .graph(fileName: fileNames[0], try encoder(model, name: "\(name)-encoder")),
                .graph(fileName: fileNames[1], try decoder(model, withPast: false, name: "\(name)-decoder")),
            ]
            if task == .text2textGenerationWithPast {
                parts.append(.graph(fileName: fileNames[2],
                                    try decoder(model, withPast: true, name: "\(name)-decoder-with-past")))
                parts.append(.merged(fileName: fileNames[3], condition: "use_cache_branch",
                                     whenTrue: try decoder(model, withPast: true, passingCrossCache: true, name: "\(name)-decoder-merged"),
                                     trueLabel: "with_past",
                                     whenFalse: try decoder(model, withPast: false, name: "\(name)-decoder-merged"),
                                     falseLabel: "first_step"))
            }
            return parts
        default:
            throw ExportError("task \(task.rawValue) is not available for encoder-decoder models; they support \(Task.seq2seqTasks.map(\.rawValue).joined(separator: ", "))")
        }
    }

    /// The encoder: `input_ids`, `attention_mask` → `last_hidden_state`.
    public static func encoder(_ model: Seq2SeqModel, name: String) throws -> Graph {
        let b = GraphBuilder(name: name)
        let axes: [Dim] = [.batchSize, encoderLength]
        let ids = b.input("input_ids", TensorType(.int64, axes))
        let mask = b.input("attention_mask", TensorType(.int64, axes))
        let hidden = try b.scope("encoder") { try model.encode(inputIDs: ids, attentionMask: mask, b) }
        try EncoderTaskGraph.declare(hidden, "last_hidden_state", axes, b)
        return b.graph
    }

    /// One decoder: the first step (`withPast` false) or a later one; with `passingCrossCache`
    /// (the merged file's cache branch) the cross-attention cache comes back out unchanged.
    public static func decoder(_ model: Seq2SeqModel, withPast: Bool, passingCrossCache: Bool = false, name: String) throws -> Graph {
        let b = GraphBuilder(name: name)
        let mask = b.input("encoder_attention_mask", TensorType(.int64, [.batchSize, encoderLength]))
        let ids = b.input("input_ids", TensorType(.int64, [.batchSize, decoderLength]))
        var inputs = Seq2SeqDecoderInputs(inputIDs: ids, encoderAttentionMask: mask)
        let heads = Dim.fixed(model.decoderHeads), size = Dim.fixed(model.decoderHeadSize)
        if withPast {
            let selfType = TensorType(.float32, [.batchSize, heads, pastDecoderLength, size])
            let crossType = TensorType(.float32, [.batchSize, heads, encoderLength, size])
            var selfPast: [KeyValue] = [], crossPast: [KeyValue] = []
            for i in 0..<model.decoderLayerCount {
                selfPast.append(KeyValue(key: b.input("past_key_values.\(i).decoder.key", selfType),
                                         value: b.input("past_key_values.\(i).decoder.value", selfType)))
                crossPast.append(KeyValue(key: b.input("past_key_values.\(i).encoder.key", crossType),
                                          value: b.input("past_key_values.\(i).encoder.value", crossType)))
            }
            inputs.selfPast = selfPast
            inputs.crossPast = crossPast
        } else {
            inputs.encoderHiddenStates = b.input("encoder_hidden_states",
                                                 TensorType(.float32, [.batchSize, encoderLength, .fixed(model.encoderHiddenSize)]))
        }
        let decoded = try b.scope("decoder") { try model.decode(inputs, b) }
        let logits = try model.languageModelHead(decoded.hidden, b)
        try EncoderTaskGraph.declare(logits, "logits", [.batchSize, decoderLength], b)

        let total = withPast ? pastDecoderLength + decoderLength : decoderLength
        let selfType = TensorType(.float32, [.batchSize, heads, total, size])
        let crossType = TensorType(.float32, [.batchSize, heads, encoderLength, size])
        for (i, kv) in decoded.selfPresents.enumerated() {
            try b.output(kv.key, name: "present.\(i).decoder.key", declared: selfType)
            try b.output(kv.value, name: "present.\(i).decoder.value", declared: selfType)
            guard !withPast || passingCrossCache else { continue }
            let cross = decoded.crossPresents[i]
            let key = passingCrossCache ? try b.node(.identity, cross.key, name: "PassCrossKey") : cross.key
            let value = passingCrossCache ? try b.node(.identity, cross.value, name: "PassCrossValue") : cross.value
            try b.output(key, name: "present.\(i).encoder.key", declared: crossType)
            try b.output(value, name: "present.\(i).encoder.value", declared: crossType)
        }
        return b.graph
    }

    /// Whether an output is fed back as an input (caches, and the encoder's output the decoder
    /// reads), so a reduced-precision export keeps it in the narrow type its input has.
    public static func isFedBack(_ outputName: String) -> Bool {
        outputName.hasPrefix("present.") || outputName == "last_hidden_state"
    }
}
