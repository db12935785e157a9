import Foundation
import ONNXExportIR

/// Reads NumPy weights: single `.npy` arrays, and the parameter files of OpenAI's original GPT
/// (`params_shapes.json` + `params_N.npy`).
///
/// Only headers are read; every tensor is a lazy reference to its bytes, checked to lie inside
/// its file. Object arrays are refused without being unpickled.
///
/// ```swift
/// let store = try NumpyReader.open(folder: "finetune-transformer-lm/model")
/// let positions = try store.require("params.0")   // [512, 768]
/// ```
public enum NumpyReader {
    /// One `.npy` array (format versions 1.0, 2.0 and 3.0).
    ///
    /// Supported dtypes are little-endian `f2 f4 f8 i1 i2 i4 i8 u1 u2 u4 u8 b1`. A Fortran-order
    /// array comes back as a C-order view when that is a transpose of a 2-D array (or needs
    /// nothing at all); other Fortran-order arrays are refused. Errors name the file: bad magic,
    /// an unknown version, a header length over 10,000 bytes or past the end of the file, a
    /// header that is not a plain dict literal, an object, structured, big-endian or otherwise
    /// unsupported dtype, data shorter than its shape.
    public static func read(npy path: String) throws -> TensorData {
        try NumpyFile(path: path).tensor()
    }

    /// The arrays of a `.npz` archive (stored or deflated members), named without `.npy`.
    public static func readNPZ(_ path: String) throws -> [String: TensorData] {
        try NumpyArchive.read(path)
    }

    /// The parameters of OpenAI's finetune-transformer-lm in `folder`, named `params.<index>` in
    /// the order of `params_shapes.json`. The shapes must account for exactly the elements of
    /// `params_0.npy … params_N.npy` (all 1-D float32); a parameter may span two files.
    public static func openAIParams(folder: String) throws -> [String: TensorData] {
        try NumpyOpenAIParams.read(folder: folder)
    }

    /// `openAIParams` as a weight store whose origin is the folder's `params_shapes.json`.
    public static func open(folder: String) throws -> WeightStore {
        guard NumpyOpenAIParams.isPresent(in: folder) else {
            throw ExportError("\(folder): holds no NumPy weights; expected \(NumpyOpenAIParams.shapesFileName) with params_0.npy, params_1.npy, ...")
        }
        return WeightStore(origin: NumpyOpenAIParams.join(folder, NumpyOpenAIParams.shapesFileName),
                           tensors: try openAIParams(folder: folder))
    }

    /// True if `folder` holds OpenAI's `params_shapes.json` and `params_0.npy`. Reads no file.
    public static func recognizes(folder: String) -> Bool {
        NumpyOpenAIParams.isPresent(in: folder)
    }
}
