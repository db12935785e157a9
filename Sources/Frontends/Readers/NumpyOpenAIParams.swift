import Foundation
import ONNXExportIR

/// The weights of OpenAI's original GPT (finetune-transformer-lm, `model/` in its repository):
/// `params_shapes.json`, a JSON list of shapes, and `params_0.npy … params_N.npy`, 1-D float32
/// arrays that, concatenated, hold every parameter back to back.
///
/// `train.py` loads them as `np.split(np.concatenate(parts), cumsum(sizes))[:-1]` and reshapes.
/// Here each parameter becomes a lazy tensor over its range; one that straddles two files streams
/// both pieces in turn. Tensors are named `params.<index>` in the order of `params_shapes.json`;
/// what each index means is the name table's business.
enum NumpyOpenAIParams {
    static let shapesFileName = "params_shapes.json"
    static let partPrefix = "params_"
    static let partSuffix = ".npy"
    /// 146 shapes take about 3 KB; anything this large is not a shapes list.
    static let maximumShapesFileSize = 10_000_000

    static func isPresent(in folder: String) -> Bool {
        FileManager.default.fileExists(atPath: join(folder, shapesFileName))
            && FileManager.default.fileExists(atPath: join(folder, partPrefix + "0" + partSuffix))
    }

    static func read(folder: String) throws -> [String: TensorData] {
        let shapesPath = join(folder, shapesFileName)
        let shapes = try readShapes(shapesPath)
        let parts = try partFiles(in: folder).map { path -> NumpyFile in
            let part = try NumpyFile(path: path)
            guard part.dataType == .float32, part.shape.count == 1 else {
                throw ExportError("\(path): holds an array of \(part.dataType)\(part.shape); the parts of OpenAI's params are 1-D float32 arrays")
            }
            return part
        }

        let fail = { (problem: String) in ExportError("\(shapesPath): \(problem)") }
        let sizes = try shapes.map { try TensorBundleFile.byteCount(shape: $0, elementSize: 1, fail: fail) }
        let expected = try sizes.reduce(0) { total, size in
            let (sum, overflow) = total.addingReportingOverflow(size)
            guard !overflow else { throw fail("the shapes hold more elements than 64-bit arithmetic can count") }
            return sum
        }
        let available = parts.reduce(0) { $0 + $1.shape[0] }
        guard expected == available else {
            throw ExportError("\(shapesPath): the \(shapes.count) shapes hold \(expected) elements in total, but"
                + " \(partPrefix)0\(partSuffix)…\(partPrefix)\(parts.count - 1)\(partSuffix) hold \(available); the shapes and the .npy files do not belong together")
        }

        var tensors: [String: TensorData] = [:]
        var part = 0, elementInPart = 0
        for (index, shape) in shapes.enumerated() {
            var regions: [FileRegion] = []
            var needed = sizes[index]
            while needed > 0 {
                let file = parts[part]
                let take = min(needed, file.shape[0] - elementInPart)
                if take > 0 {
                    regions.append(FileRegion(path: file.path, offset: file.dataOffset + 4 * elementInPart, length: 4 * take))
                }
                needed -= take
                elementInPart += take
                if elementInPart == file.shape[0] && part + 1 < parts.count {
                    part += 1
                    elementInPart = 0
                } else if take == 0 {
                    // Unreachable once the totals agree; kept so a logic slip cannot loop forever.
                    throw ExportError("\(shapesPath): parameter \(index) runs past the end of the .npy parts")
                }
            }
            let name = "params.\(index)"
            if regions.count == 1 {
                tensors[name] = try TensorData.file(regions[0], dtype: .float32, shape: shape)
            } else if regions.isEmpty {
                tensors[name] = TensorData(dtype: .float32, shape: shape, storage: .inline([]))
            } else {
                tensors[name] = try TensorData.produced(NumpyJoinedRegions(regions: regions), dtype: .float32, shape: shape)
            }
        }
        return tensors
    }

    /// The shapes list: a JSON array of arrays of non-negative integers.
    private static func readShapes(_ path: String) throws -> [[Int]] {
        let file = try ReadOnlyFile(path: path)
        guard file.size <= maximumShapesFileSize else {
            throw ExportError("\(path): is \(file.size) bytes, more than a list of parameter shapes can need")
        }
        let json: OrderedJSON
        do {
            json = try OrderedJSONParser.parse(try file.readBytes(at: 0, count: file.size))
        } catch let error as OrderedJSONSyntaxError {
            throw ExportError("\(path): is not valid JSON: \(error.detail)")
        }
        guard case .array(let items) = json, !items.isEmpty else {
            throw ExportError("\(path): expected a non-empty JSON array of shapes such as [[512, 768], [40478, 768], ...], found \(json.briefDescription)")
        }
        return try items.enumerated().map { index, item in
            guard case .array(let dims) = item else {
                throw ExportError("\(path): shape \(index) is \(item.briefDescription), expected an array of non-negative integers")
            }
            return try dims.map { dim in
                guard let size = dim.nonNegativeInt else {
                    throw ExportError("\(path): shape \(index) \(item.briefDescription) has dimension \(dim.briefDescription); expected a non-negative integer")
                }
                return size
            }
        }
    }

    /// `params_0.npy … params_N.npy` in index order; a gap is an error naming the missing file.
    private static func partFiles(in folder: String) throws -> [String] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder)
        } catch {
            throw ExportError("\(folder): cannot list the folder (\(error.localizedDescription))")
        }
        let indices = names.compactMap { name -> Int? in
            guard name.hasPrefix(partPrefix), name.hasSuffix(partSuffix) else { return nil }
            let digits = name.dropFirst(partPrefix.count).dropLast(partSuffix.count)
            // Canonical numbers only, so `params_01.npy` cannot pose as a second `params_1.npy`.
            guard let index = Int(digits), index >= 0, String(index) == digits else { return nil }
            return index
        }.sorted()
        guard !indices.isEmpty else {
            throw ExportError("\(folder): has \(shapesFileName) but no \(partPrefix)0\(partSuffix)")
        }
        for (expected, found) in indices.enumerated() where expected != found {
            throw ExportError("\(folder): \(partPrefix)\(expected)\(partSuffix) is missing (found \(partPrefix)\(found)\(partSuffix));"
                + " the parts must be numbered from 0 without gaps")
        }
        return indices.map { join(folder, partPrefix + String($0) + partSuffix) }
    }

    static func join(_ folder: String, _ name: String) -> String {
        folder.hasSuffix("/") ? folder + name : folder + "/" + name
    }
}
