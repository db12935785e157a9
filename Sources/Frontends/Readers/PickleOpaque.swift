import ONNXExportIR

/// Globals that build Python objects which are not weights and not plain data, but which real
/// checkpoints hold beside their weights, so the unpickler keeps a placeholder for them instead of
/// refusing the file: today NumPy arrays and their dtypes. Facebook's XLM checkpoints, for one,
/// keep `params['mask_scores']` (a float64 `ndarray`) next to the state dict, pickled as
/// `numpy.core.multiarray._reconstruct(numpy.ndarray, (0,), b'b')` + BUILD, with a
/// `numpy.dtype('f8', False, True)` + BUILD inside its state.
///
/// Why this is safe: the unpickler never imports or calls anything. Such a global becomes a name,
/// REDUCE on it becomes `.opaque(class name)` with its arguments dropped, and BUILD on the result
/// drops the state; nothing of the object's bytes is decoded or kept. A placeholder is not a
/// tensor, a storage or a callable of the weight allow-list, so it can never become a weight: the
/// tensor rebuild functions refuse it as an argument, and a state_dict skips it like any other
/// non-tensor entry. The list is deliberately short, names only classes whose construction in
/// Python is pure data (a `numpy.ndarray` from shape, dtype and bytes), and is not a pattern: any
/// other module stays refused at the opcode that names it (`os.system`, `builtins.eval`, ...).
enum PickleOpaqueGlobal: Equatable, Sendable {
    /// `numpy.core.multiarray._reconstruct` (`numpy._core.multiarray` since NumPy 2).
    case ndarrayReconstruct
    case ndarray
    case dtype

    static func resolve(module: String, name: String) -> PickleOpaqueGlobal? {
        switch (module, name) {
        case ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"): return .ndarrayReconstruct
        case ("numpy", "ndarray"): return .ndarray
        case ("numpy", "dtype"): return .dtype
        default: return nil
        }
    }

    var description: String {
        switch self {
        case .ndarrayReconstruct: return "numpy.core.multiarray._reconstruct"
        case .ndarray: return "numpy.ndarray"
        case .dtype: return "numpy.dtype"
        }
    }
}

extension PickleUnpickler {
    /// REDUCE on an opaque global: the placeholder of the object Python would build, named by its
    /// class. Nothing is called and the arguments are not kept.
    func opaqueCall(_ global: PickleOpaqueGlobal, _ args: [PickleValue], fail: (String) -> ExportError) throws -> PickleValue {
        switch global {
        case .ndarrayReconstruct:
            // `_reconstruct(subtype, shape, dtype_code)`: only plain arrays, not subclasses.
            guard let subtype = args.first, subtype == .global(.opaque(.ndarray)) else {
                throw fail("expected numpy.ndarray as the class to rebuild, got \(describe(Array(args.prefix(1))))")
            }
            return .opaque(PickleOpaqueGlobal.ndarray.description)
        case .ndarray, .dtype:
            return .opaque(global.description)
        }
    }
}
