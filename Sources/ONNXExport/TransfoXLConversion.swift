import Foundation
import ONNXExportFrontends
import ONNXExportIR

/// kimiyoung/transformer-xl's TensorFlow checkpoints with a transformers Transformer-XL config (the
/// originals were configured by flags), converted as transformers 4's
/// `convert_transfo_xl_original_tf_checkpoint_to_pytorch.py` does (`TransfoXLConfigFile`,
/// `TransfoXLTFCheckpoint`); without `--config`, `TransfoXLConfig()`'s defaults (the wt103 model), as
/// there. The corpus pickle that script also converts (`--transfo_xl_dataset_file`) is not read: it
/// is an arbitrary pickled Python object (`data_utils.Corpus`), which unpickling would run, and the
/// restricted unpickler admits a state dict's globals only.
enum TransfoXLConversion: ConversionSource {
    /// `transfo-xl`, and the original CLI's spelling.
    static let modelTypes = ["transfo-xl", "transfo_xl"]

    static func handles(_ options: ConvertOptions) -> Bool { modelTypes.contains(options.modelType) }

    static func read(_ options: ConvertOptions) throws -> ConvertedCheckpoint {
        let (_, store) = try TFCheckpointPath.open(options.checkpoint)
        let config = try TransfoXLConfigFile(path: options.configFile)
        let checkpoint = try TransfoXLTFCheckpoint(store: store, config: config.config)
        let notes = (options.configFile == nil ? ["no --config: TransfoXLConfig()'s defaults (the wt103 model), as transformers' script uses"] : [])
            + checkpoint.notes
        return ConvertedCheckpoint(
            modelType: "transfo-xl", tensors: checkpoint.tensors, origin: store.origin, config: config.config,
            sourceFormat: "Transformer-XL TensorFlow checkpoint", notes: notes,
            writeCompanions: { try CompanionFiles.write(texts: [("config.json", config.configJSON)], into: $0) })
    }
}
