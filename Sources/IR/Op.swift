/// Operations at the level a model author thinks in. The IR knows nothing of opsets: the backend's
/// lowering table maps each op to ONNX nodes for the target opset (native where the opset has the
/// op, a decomposition below).
///
/// Inputs are positional; the comment on each case says what they are.
public enum Op: Hashable, Sendable {
    // Elementwise, numpy broadcasting. (a, b)
    case add, sub, mul, div, pow
    case equal, less, greater, and, or
    /// (condition, x, y)
    case `where`
    // Elementwise unary. (x)
    case neg, not, sqrt, reciprocal, exp, log, tanh, erf, sigmoid, relu, softplus, cos, sin
    /// (x): x under another name, for a graph output that is an input or a value another output
    /// already names (a cache passed through unchanged).
    case identity
    /// (x): T5's float16 guard (`T5Block`): when `x` holds an infinity, every element is clamped to
    /// ±(largest float16 − 1000), which rounds to ±64512; otherwise nothing changes. transformers
    /// does it only in float16, so it is the identity in every other type.
    case saturateFloat16
    case cast(DataType)
    /// GELU with the exact erf form or the tanh approximation. (x)
    case gelu(GeluApproximation)

    /// (a, b): batched matrix product.
    case matMul
    /// (a [..., K], b [N, K]) → [..., N]: `a · bᵀ` with `b` kept as stored, for matrices not worth
    /// transposing while they stream (a tied embedding, a head too large to transpose in memory).
    case matMulTransposed
    /// (a [..., K], packed uint8 [N, blocks, blob], scales [N · blocks] of a's type, zero points
    /// uint8 [N · ⌈blocks · bits / 8⌉]?) → [..., N]: `a · Wᵀ` for a weight `W [N, K]` stored
    /// block-quantized (`BlockQuantization`, `--quantize`); the zero points are there unless
    /// symmetric. `accuracyLevel` is the least precise arithmetic the runtime may use (onnxruntime:
    /// 0 unset, 1 float32, 2 float16, 3 bfloat16, 4 int8 activations).
    case blockQuantizedMatMul(BlockQuantization, k: Int, n: Int, accuracyLevel: Int)
    /// Normalisation over the last axis. (x, scale, bias?)
    case layerNorm(epsilon: Float)
    /// Root-mean-square normalisation over the last axis, statistics in float32. (x, scale)
    case rmsNorm(epsilon: Float)
    /// (x)
    case softmax(axis: Int)
    /// (x): `x − log Σ exp(x)` along `axis` (torch's `log_softmax`), for log-probabilities that a
    /// `log(softmax(x))` would round to −∞ where a probability underflows.
    case logSoftmax(axis: Int)
    /// Multi-head scaled dot-product attention on projected activations.
    /// (query [B, Sq, heads·d], key [B, Skv, heads·d], value [B, Skv, heads·dv], additive mask broadcastable to [B, heads, Sq, Skv]?)
    /// → [B, Sq, heads·dv]
    case attention(heads: Int, scale: Float)

    /// Scaled dot-product attention on head-split tensors, grouped-query when key/value have fewer
    /// heads than the query (each key/value head serves `query heads / kv heads` query heads).
    /// (query [B, Hq, Sq, D], key [B, Hkv, Skv, D], value [B, Hkv, Skv, Dv], additive mask broadcastable to [B, 1, Sq, Skv]?)
    /// → [B, Hq, Sq, Dv]
    case headAttention(scale: Float)
    /// onnxruntime's fused decoder attention (`com.microsoft.GroupQueryAttention`, `--target
    /// onnxruntime`): splits heads, applies the half-split rotary embedding at the positions the
    /// cache length implies (when `rotary`), appends the new keys and values to the cache, and
    /// attends causally, grouped-query. Positions and masking come from the per-row lengths, so
    /// rows must be unpadded or right-padded, as onnxruntime-genai feeds them.
    /// (query [B, S, Hq·D], key [B, S, Hkv·D], value [B, S, Hkv·D] — or query the packed
    /// [B, S, (Hq + 2·Hkv)·D] projection and no key or value —, past key [B, Hkv, P, D]?,
    /// past value?, last index int32 [B] (tokens − 1 per row), total length int32 [],
    /// cos [positions, D/2]?, sin?) → (context [B, S, Hq·D], present key [B, Hkv, P+S, D], present value)
    case groupQueryAttention(heads: Int, keyValueHeads: Int, scale: Float, rotary: Bool)
    /// `rmsNorm(x + skip)` that also returns the sum, the residual stream of a pre-norm block
    /// (`com.microsoft.SkipSimplifiedLayerNormalization`, `--target onnxruntime`).
    /// (x, skip of x's shape, scale) → (normalised, x + skip)
    case skipRMSNorm(epsilon: Float)
    /// Rotary position embedding, half-split (`rotate_half`) form, on the first `cos`-width
    /// channels of each head; the rest pass through.
    /// (x [B, H, S, D], cos [B, 1, S, R], sin [B, 1, S, R]) with R ≤ D even.
    case rotaryEmbedding

    // Shapes and indexing.
    /// (x): ONNX Reshape semantics: 0 copies the input dim, -1 is inferred.
    case reshape([Int])
    /// (x, shape): Reshape to a shape computed in the graph (int64 [rank]); 0 copies, -1 is inferred.
    case reshapeDynamic
    /// (x): to 2-D, `[prod(dims before axis), prod(dims from axis)]`.
    case flatten(axis: Int)
    /// (x)
    case transpose([Int])
    /// (x)
    case unsqueeze([Int])
    /// (x)
    case squeeze([Int])
    /// (data, indices)
    case gather(axis: Int)
    /// (data, indices): `out[i][j][k] = data[i][indices[i][j][k]][k]` along `axis` (torch's
    /// `gather`); indices have data's rank, the output their shape.
    case gatherElements(axis: Int)
    /// (inputs...)
    case concat(axis: Int)
    /// (data, starts, ends, axes): int64 1-D starts/ends/axes, ONNX Slice semantics.
    case slice
    /// (x) → int64 [rank]
    case shape
    /// (x): inclusive running sum along `axis`.
    case cumSum(axis: Int)
    /// (x): the mean or the largest element over `axes`.
    case reduce(Reduction, axes: [Int], keepDims: Bool)
    /// (x, shape): broadcast to shape.
    case expand
    /// 1-D convolution, `torch.nn.Conv1d` with zero padding on both ends.
    /// (x [B, Cin, L], weight [Cout, Cin / groups, K], bias [Cout]?) → [B, Cout, L + 2·padding − K + 1]
    case conv1D(padding: Int, groups: Int)
    /// (start, limit, delta): int64 scalars → [n], `start, start + delta, ... < limit`.
    case range
    /// (x) → int64 index of the largest element along `axis`.
    case argMax(axis: Int, keepDims: Bool)

    /// A short name for node names and error messages (`MatMul`, `LayerNorm`, ...).
    public var kind: String {
        switch self {
        case .add: return "Add"
        case .sub: return "Sub"
        case .mul: return "Mul"
        case .div: return "Div"
        case .pow: return "Pow"
        case .equal: return "Equal"
        case .less: return "Less"
        case .greater: return "Greater"
        case .and: return "And"
        case .or: return "Or"
        case .where: return "Where"
        case .neg: return "Neg"
        case .identity: return "Identity"
        case .saturateFloat16: return "SaturateFloat16"
        case .not: return "Not"
        case .sqrt: return "Sqrt"
        case .reciprocal: return "Reciprocal"
        case .exp: return "Exp"
        case .log: return "Log"
        case .tanh: return "Tanh"
        case .erf: return "Erf"
        case .sigmoid: return "Sigmoid"
        case .relu: return "Relu"
        case .softplus: return "Softplus"
        case .cos: return "Cos"
        case .sin: return "Sin"
        case .gatherElements: return "GatherElements"
        case .conv1D: return "Conv"
        case .rmsNorm: return "RMSNorm"
        case .headAttention: return "HeadAttention"
        case .rotaryEmbedding: return "RotaryEmbedding"
        case .groupQueryAttention: return "GroupQueryAttention"
        case .skipRMSNorm: return "SkipRMSNorm"
        case .range: return "Range"
        case .argMax: return "ArgMax"
        case .cast: return "Cast"
        case .gelu: return "Gelu"
        case .matMul: return "MatMul"
        case .matMulTransposed: return "MatMulTransposed"
        case .blockQuantizedMatMul: return "BlockQuantizedMatMul"
        case .layerNorm: return "LayerNorm"
        case .softmax: return "Softmax"
        case .logSoftmax: return "LogSoftmax"
        case .attention: return "Attention"
        case .reshape: return "Reshape"
        case .reshapeDynamic: return "Reshape"
        case .flatten: return "Flatten"
        case .transpose: return "Transpose"
        case .unsqueeze: return "Unsqueeze"
        case .squeeze: return "Squeeze"
        case .gather: return "Gather"
        case .concat: return "Concat"
        case .slice: return "Slice"
        case .shape: return "Shape"
        case .cumSum: return "CumSum"
        case .reduce(let reduction, _, _): return reduction.rawValue
        case .expand: return "Expand"
        }
    }
}

/// What `Op.reduce` computes; the raw value is the ONNX op.
public enum Reduction: String, Hashable, Sendable {
    case mean = "ReduceMean"
    case max = "ReduceMax"
}

public enum GeluApproximation: String, Hashable, Sendable {
    case none
    case tanh
}
