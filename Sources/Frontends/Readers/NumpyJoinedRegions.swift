import ONNXExportIR

/// One tensor whose bytes lie in several file ranges back to back, such as a parameter of OpenAI's
/// finetune-transformer-lm that starts at the end of `params_3.npy` and continues in
/// `params_4.npy`. Each part goes to the sink with `copy(from:)`, so the kernel copy path still
/// applies and the parts are never joined in memory.
struct NumpyJoinedRegions: TensorByteProducer {
    let regions: [FileRegion]

    var identity: String {
        "joined(" + regions.map { "\($0.path)@\($0.offset)+\($0.length)" }.joined(separator: ", ") + ")"
    }

    var byteCount: Int { regions.reduce(0) { $0 + $1.length } }

    func stream(into sink: TensorByteSink) throws {
        for region in regions where region.length > 0 {
            try sink.copy(from: region)
        }
    }
}
