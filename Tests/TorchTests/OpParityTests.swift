import Testing
import Torch

// Op parity: every op of the Torch module against PyTorch, forward and backward.
//
// `Tests/Fixtures/ops.py` writes, per named case, its inputs, outputs, random upstream
// gradients and the input gradients of Σ_k (out_k · gw_k).sum() (key convention at the top
// of that script). `OpTable` below has one closure per case mirroring the Python lambda.
// For each case the test feeds the inputs (input i requires grad iff the fixture has
// `<case>/grad<i>`), compares every output, then backpropagates the same weighted sum and
// compares every input gradient.

/// One case: a closure from the fixture's inputs to the outputs, plus its tolerances.
struct OpCase: Sendable {
    let run: @Sendable ([Tensor]) -> [Tensor]
    let rtol: Double
    let atol: Double
}

enum OpTable {
    static let cases: [(name: String, op: OpCase)] = build()
    static let byName: [String: OpCase] = Dictionary(cases.map { ($0.name, $0.op) }, uniquingKeysWith: { a, _ in a })
    static let names: [String] = cases.map(\.name)

    // swiftlint:disable:next function_body_length
    private static func build() -> [(name: String, op: OpCase)] {
        var table: [(name: String, op: OpCase)] = []
        func add(_ name: String, rtol: Double = 1e-5, atol: Double = 1e-6,
                 _ run: @escaping @Sendable ([Tensor]) -> [Tensor]) {
            table.append((name, OpCase(run: run, rtol: rtol, atol: atol)))
        }
        let all = TensorIndex.all
        let every2 = TensorIndex.range(start: nil, end: nil, step: 2)

        // MARK: Creation (deterministic)
        add("zeros") { _ in [Tensor.zeros([2, 3])] }
        add("zeros_int64") { _ in [Tensor.zeros([2, 3], dtype: .int64)] }
        add("ones") { _ in [Tensor.ones([4])] }
        add("ones_f64") { _ in [Tensor.ones([2, 2], dtype: .float64)] }
        add("full") { _ in [Tensor.full([2, 3], 1.5)] }
        add("full_integer") { _ in [Tensor.full([3], integer: 7)] }
        add("arange_int") { _ in [Tensor.arange(0, 10, step: 3)] }
        add("arange_end_only") { _ in [Tensor.arange(5)] }
        add("arange_float32") { _ in [Tensor.arange(0, 1, step: 0.1, dtype: .float32)] }
        // Python infers float32 from a fractional step.
        add("arange_float_infers_dtype") { _ in [Tensor.arange(0, 1, step: 0.25)] }
        add("linspace") { _ in [Tensor.linspace(-1, 1, steps: 7)] }
        add("eye") { _ in [Tensor.eye(3)] }
        add("eye_rect") { _ in [Tensor.eye(2, 4)] }
        add("from_array_f32") { _ in [Tensor([1.5, -2.0, 3.0, 4.25] as [Float], shape: [2, 2])] }
        add("from_array_f64") { _ in [Tensor([0.1, 0.2, -0.3] as [Double])] }
        add("from_array_int") { _ in [Tensor([1, -2, 3] as [Int])] }
        add("from_array_int32") { _ in [Tensor([1, 2, 3, 4] as [Int32], shape: [2, 2])] }
        add("from_array_bool") { _ in [Tensor([true, false, true])] }
        add("from_array_uint8") { _ in [Tensor([0, 255, 7] as [UInt8])] }
        add("scalar_tensor") { _ in [Tensor(Float(2.5))] }
        add("zeros_like_ones_like_full_like") { i in [i[0].zerosLike(), i[0].onesLike(), i[0].fullLike(-3)] }
        // Random draws from an explicit generator seeded with s: the same numbers as Python
        // after torch.manual_seed(s) (a fresh generator and the seeded global one agree).
        add("randn_seed0") { _ in
            let g = Generator(seed: 0)
            return [Tensor.randn([3, 4], generator: g)]
        }
        add("randn_large") { _ in
            let g = Generator(seed: 1)
            return [Tensor.randn([5, 7], generator: g)]
        }
        add("rand_seed") { _ in
            let g = Generator(seed: 2)
            return [Tensor.rand([3, 4], generator: g)]
        }
        add("randint_seed") { _ in
            let g = Generator(seed: 3)
            return [Tensor.randint(0, 10, [3, 4], generator: g)]
        }
        add("randint_low") { _ in
            let g = Generator(seed: 3)
            return [Tensor.randint(-5, 5, [20], generator: g)]
        }
        add("randperm_seed") { _ in
            let g = Generator(seed: 4)
            return [Tensor.randperm(10, generator: g)]
        }
        add("rng_sequence") { _ in
            let g = Generator(seed: 5)
            let a = Tensor.randn([3], generator: g), b = Tensor.rand([2], generator: g), c = Tensor.randn([17], generator: g)
            let d = Tensor.randperm(6, generator: g)
            return [a, b, c, d]
        }

        // MARK: Shape
        add("reshape") { i in [i[0].reshaped([4, -1])] }
        add("reshape_noncontig") { i in [i[0].T.reshaped([-1])] }
        add("view") { i in [i[0].view([6, 4])] }
        add("permute") { i in [i[0].permuted(2, 0, 1)] }
        add("permute_negative") { i in [i[0].permuted([-1, 0, -2])] }
        add("transpose") { i in [i[0].transposed(0, -1)] }
        add("t_2d") { i in [i[0].T] }
        add("squeeze_all") { i in [i[0].squeezed()] }
        add("squeeze_dim_negative") { i in [i[0].squeezed(-1)] }
        add("unsqueeze") { i in [i[0].unsqueezed(1)] }
        add("unsqueeze_negative") { i in [i[0].unsqueezed(-1)] }
        add("expand") { i in [i[0].expanded([2, 3, 4])] }
        add("expand_keep") { i in [i[0].expanded([-1, 5])] }
        add("broadcast_to") { i in [i[0].broadcast(to: [2, 3, 4])] }
        add("expand_as") { i in [i[0].expanded(as: i[1])] }
        add("flatten_all") { i in [i[0].flattened()] }
        add("flatten_from1") { i in [i[0].flattened(startDim: 1)] }
        add("flatten_1_2") { i in [i[0].flattened(startDim: 1, endDim: 2)] }
        add("flatten_noncontig") { i in [i[0].transposed(0, 1).flattened(startDim: 1)] }
        // Slicing
        add("slice_rows") { i in [i[0][1..<3, all]] }
        add("slice_step") { i in [i[0][every2, 1...]] }
        add("slice_step_stride") { i in [i[0][all, stride(from: 0, to: 5, by: 2)]] }
        add("slice_negative_start") { i in [i[0][all, (-2)...]] }
        add("slice_upto_through") { i in [i[0][..<2], i[0][all, ...2], i[0][1...2, 0..<2]] }
        add("slice_noncontig") { i in [i[0].T[1..<3]] }
        add("slice_ellipsis_newaxis") { i in [i[0][TensorIndex.ellipsis, TensorIndex.newAxis, 1]] }
        add("select_narrow") { i in [i[0].select(dim: 1, index: -1), i[0].narrow(dim: 0, start: 1, length: 2)] }
        // Integer indexing
        add("index_int") { i in [i[0][2]] }
        add("index_negative") { i in [i[0][-1]] }
        add("index_int_pair") { i in [i[0][1, -1]] }
        add("index_int_after_slice") { i in [i[0][1..., 2]] }
        // Boolean mask indexing
        add("index_mask_full") { i in [i[0][i[1]]] }
        add("index_mask_rows") { i in [i[0][i[1]]] }
        add("index_mask_cols") { i in [i[0][all, i[1]]] }
        // Tensor indexing
        add("index_tensor_rows") { i in [i[0][i[1]]] }
        add("index_tensor_cols") { i in [i[0][all, i[1]]] }
        add("index_tensor_2d") { i in [i[0][i[1]]] }
        add("index_tensor_noncontig") { i in [i[0].T[i[1]]] }
        // Index assignment
        add("setitem_slice") { i in
            let y = i[0].clone()
            y[1..<3, all] = i[1]
            return [y]
        }
        add("setitem_int_scalar") { i in
            let y = i[0].clone()
            y[0] = Tensor(Float(5))
            return [y]
        }
        add("setitem_mask") { i in
            let y = i[0].clone()
            y[i[1]] = i[2]
            return [y]
        }
        add("setitem_mask_scalar") { i in
            let y = i[0].clone()
            y[i[1]] = Tensor(Float(-1))
            return [y]
        }
        add("setitem_tensor") { i in
            let y = i[0].clone()
            y[i[1]] = i[2]
            return [y]
        }
        add("setitem_broadcast") { i in
            let y = i[0].clone()
            y[all, 1] = i[1]
            return [y]
        }
        // Joining and splitting
        add("cat_dim0") { i in [Tensor.cat([i[0], i[1]], dim: 0)] }
        add("cat_negative") { i in [Tensor.cat([i[0], i[1], i[2]], dim: -1)] }
        add("cat_noncontig") { i in [Tensor.cat([i[0].T, i[1]], dim: 0)] }
        add("stack_dim1") { i in [Tensor.stack([i[0], i[1]], dim: 1)] }
        add("stack_negative") { i in [Tensor.stack([i[0], i[1]], dim: -1)] }
        add("split_size") { i in i[0].split(size: 2) }
        add("split_size_negative_dim") { i in i[0].split(size: 3, dim: -1) }
        add("split_sizes") { i in i[0].split(sizes: [1, 4]) }
        add("split_sizes_dim1") { i in i[0].split(sizes: [1, 2, 1], dim: 1) }
        add("chunk") { i in i[0].chunked(3) }
        add("chunk_negative_dim") { i in i[0].chunked(2, dim: -1) }
        // Gather/scatter family
        add("index_select") { i in [i[0].indexSelect(dim: 0, index: i[1])] }
        add("index_select_negative") { i in [i[0].indexSelect(dim: -1, index: i[1])] }
        add("gather_dim1") { i in [i[0].gather(dim: 1, index: i[1])] }
        add("gather_dim0") { i in [i[0].gather(dim: 0, index: i[1])] }
        add("gather_noncontig") { i in [i[0].T.gather(dim: -1, index: i[1])] }
        add("scatter_src") { i in [i[0].scatter(dim: 0, index: i[1], source: i[2])] }
        add("scatter_value") { i in [i[0].scatter(dim: 0, index: i[1], value: 2.5)] }
        add("scatter_add") { i in [i[0].scatterAdd(dim: 1, index: i[1], source: i[2])] }
        add("masked_fill") { i in [i[0].maskedFill(i[1], -1.5)] }
        add("masked_fill_broadcast") { i in [i[0].maskedFill(i[1], 0)] }
        add("where_broadcast") { i in [Tensor.where(i[0], i[1], i[2])] }
        add("repeat") { i in [i[0].repeated([2, 1, 3])] }
        add("flip") { i in [i[0].flipped([0, -1])] }

        // MARK: Elementwise math
        add("add_broadcast") { i in [i[0] + i[1]] }
        add("sub_broadcast") { i in [i[0] - i[1]] }
        add("mul_broadcast") { i in [i[0] * i[1]] }
        add("div_broadcast") { i in [i[0] / i[1]] }
        add("add_noncontig") { i in [i[0].T + i[1]] }
        add("mul_noncontig") { i in [i[0].permuted(1, 0, 2) * i[1][all, every2]] }
        add("add_scalar") { i in [i[0] + 2.5] }
        add("radd_scalar") { i in [2.5 + i[0]] }
        add("sub_scalar") { i in [i[0] - 1.5] }
        add("rsub_scalar") { i in [1.5 - i[0]] }
        add("mul_scalar") { i in [i[0] * 3.0] }
        add("rmul_scalar") { i in [3.0 * i[0]] }
        add("div_scalar") { i in [i[0] / 4.0] }
        // Python computes 4 / x as x.reciprocal() * 4, the shim as div(4, x): last-bit
        // differences only, well inside the default tolerance.
        add("rdiv_scalar") { i in [4.0 / i[0]] }
        // Integer scalars keep an int64 tensor int64, as Python's `t + 2`.
        add("add_scalar_int64_keeps_dtype") { i in [i[0] + 2, i[0] * 3, i[0] - 1] }
        add("int_scalars_both_sides") { i in
            let x = i[0]
            return [2 + x, 3 * x, 10 - x, x / 2, 8 / x, x.pow(2)]
        }
        add("float_tensor_int_float_scalars") { i in
            let x = i[0]
            return [x * 2, 2 - x, x / 4, 3 + x, x - 1, x * Float(0.5)]
        }
        add("add_mixed_dtype_promotes") { i in [i[0] + i[1]] }
        add("neg") { i in [-i[0]] }
        add("pow_tensor") { i in [i[0].pow(i[1])] }
        add("pow_scalar") { i in [i[0].pow(3)] }
        add("pow_scalar_fractional") { i in [i[0].pow(0.5)] }
        add("exp") { i in [i[0].exp()] }
        add("log") { i in [i[0].log()] }
        add("sqrt") { i in [i[0].sqrt()] }
        add("abs") { i in [i[0].abs()] }
        add("abs_noncontig") { i in [i[0].T.abs()] }
        add("clamp_both") { i in [i[0].clamped(min: -0.5, max: 0.5)] }
        add("clamp_min") { i in [i[0].clamped(min: 0.25)] }
        add("clamp_max") { i in [i[0].clamped(max: -0.25)] }
        add("clamp_tensor") { i in [i[0].clamped(min: i[1], max: i[2])] }
        add("sign") { i in [i[0].sign()] }
        // Comparisons and logic
        add("cmp_tensor_ops") { i in
            let x = i[0], y = i[1]
            return [x .== y, x .!= y, x .< y, x .<= y, x .> y, x .>= y]
        }
        add("cmp_tensor_methods") { i in
            let x = i[0], y = i[1]
            return [x.eq(y), x.ne(y), x.lt(y), x.le(y), x.gt(y), x.ge(y)]
        }
        add("cmp_broadcast") { i in [i[0] .< i[1]] }
        add("cmp_scalar_ops") { i in
            let x = i[0]
            let a: Tensor = x .== 0.5, b: Tensor = x .!= 0.5, c: Tensor = x .< 0.0
            let d: Tensor = x .<= 0.5, e: Tensor = x .> 0.0, f: Tensor = x .>= -0.5
            return [a, b, c, d, e, f]
        }
        add("cmp_scalar_methods") { i in
            let x = i[0]
            return [x.eq(0.5), x.ne(0.5), x.lt(0), x.le(0.5), x.gt(0), x.ge(-0.5)]
        }
        add("logical_ops") { i in
            let a = i[0], b = i[1]
            return [a.logicalAnd(b), a.logicalOr(b), a.logicalNot(), a.logicalXor(b)]
        }
        add("logical_broadcast") { i in [i[0] .& i[1], i[0] .| i[1]] }
        add("logical_float_inputs") { i in [i[0].logicalAnd(i[1]), i[0].logicalOr(i[1]), .!i[0]] }
        add("isfinite_isnan") { i in [i[0].isFinite(), i[0].isNaN(), i[0].isInf()] }
        add("isfinite_from_ops") { i in [i[0].log().isFinite(), i[0].log().isNaN()] }
        add("maximum_broadcast") { i in [i[0].maximum(i[1])] }
        add("minimum_broadcast") { i in [i[0].minimum(i[1])] }

        // MARK: Reductions
        add("sum_all") { i in [i[0].sum()] }
        add("sum_dim") { i in [i[0].sum(dim: 1)] }
        add("sum_dims_keepdim") { i in [i[0].sum(dims: [0, 2], keepDim: true)] }
        add("sum_negative_dim") { i in [i[0].sum(dim: -1)] }
        add("sum_noncontig") { i in [i[0].T.sum(dim: 0)] }
        add("sum_all_keepdim") { i in [i[0].sum(dims: [0, 1], keepDim: true)] }
        add("sum_int64") { i in [i[0].sum(), i[0].sum(dim: 0)] }
        add("sum_bool") { i in [i[0].sum()] }
        add("mean_all") { i in [i[0].mean()] }
        add("mean_dim_keepdim") { i in [i[0].mean(dim: -1, keepDim: true)] }
        add("mean_dims") { i in [i[0].mean(dims: [0, 1])] }
        add("max_dim") { i in
            let m = i[0].max(dim: 1)
            return [m.values, m.indices]
        }
        add("max_dim_keepdim_negative") { i in
            let m = i[0].max(dim: -1, keepDim: true)
            return [m.values, m.indices]
        }
        add("min_dim") { i in
            let m = i[0].min(dim: 0)
            return [m.values, m.indices]
        }
        add("min_dim_keepdim_negative") { i in
            let m = i[0].min(dim: -2, keepDim: true)
            return [m.values, m.indices]
        }
        add("max_min_all") { i in [i[0].max(), i[0].min()] }
        add("amax_amin") { i in [i[0].amax(dims: [0, 2]), i[0].amin(dims: [-1], keepDim: true)] }
        add("argmax_all") { i in [i[0].argmax()] }
        add("argmax_dim") { i in [i[0].argmax(dim: 1)] }
        add("argmax_dim_keepdim_negative") { i in [i[0].argmax(dim: -1, keepDim: true)] }
        add("argmin_dim") { i in [i[0].argmin(), i[0].argmin(dim: 0)] }
        add("var_all") { i in [i[0].variance()] }
        add("var_dims_keepdim") { i in [i[0].variance(dims: [0, 2], keepDim: true)] }
        add("var_correction0_negative") { i in [i[0].variance(dims: [-1], correction: 0)] }
        add("std_all") { i in [i[0].std()] }
        add("std_dim_keepdim") { i in [i[0].std(dims: [1], keepDim: true)] }
        add("std_correction0") { i in [i[0].std(dims: [0, 1], correction: 0)] }
        add("norm_l2_all") { i in [i[0].norm()] }
        add("norm_l1_dim") { i in [i[0].norm(p: 1, dims: [-1])] }
        add("norm_l2_dims_keepdim") { i in [i[0].norm(p: 2, dims: [0, 2], keepDim: true)] }
        add("norm_linf") { i in [i[0].norm(p: .infinity, dims: [1])] }
        add("norm_p3") { i in [i[0].norm(p: 3)] }
        add("logsumexp_dim") { i in [i[0].logsumexp(dims: [1])] }
        add("logsumexp_dim_keepdim_negative") { i in [i[0].logsumexp(dims: [-1], keepDim: true)] }
        add("logsumexp_all") { i in [i[0].logsumexp()] }
        add("cumsum") { i in [i[0].cumsum(dim: 0)] }
        add("cumsum_negative") { i in [i[0].cumsum(dim: -1)] }
        add("cumsum_noncontig") { i in [i[0].T.cumsum(dim: 1)] }

        // MARK: Linear algebra
        add("matmul_2d") { i in [i[0].matmul(i[1])] }
        add("matmul_1d_2d") { i in [i[0].matmul(i[1])] }
        add("matmul_2d_1d") { i in [i[0].matmul(i[1])] }
        add("matmul_1d_1d") { i in [i[0].matmul(i[1])] }
        add("matmul_batched_broadcast") { i in [i[0].matmul(i[1])] }
        add("matmul_2d_3d") { i in [i[0].matmul(i[1])] }
        add("matmul_noncontig") { i in [i[0].T.matmul(i[1])] }
        add("matmul_f64") { i in [i[0].matmul(i[1])] }
        add("mm") { i in [i[0].mm(i[1])] }
        add("bmm") { i in [i[0].bmm(i[1])] }
        add("linear_bias") { i in [Functional.linear(i[0], weight: i[1], bias: i[2])] }
        add("linear_no_bias") { i in [Functional.linear(i[0], weight: i[1])] }
        add("dot") { i in [i[0].dot(i[1])] }
        add("outer") { i in [i[0].outer(i[1])] }

        // MARK: NN functional
        add("conv2d") { i in [Functional.conv2d(i[0], weight: i[1], bias: i[2])] }
        add("conv2d_stride_padding") { i in
            [Functional.conv2d(i[0], weight: i[1], bias: i[2], stride: (2, 1), padding: (1, 2))]
        }
        add("conv2d_dilation") { i in
            [Functional.conv2d(i[0], weight: i[1], bias: i[2], padding: (1, 1), dilation: (2, 1))]
        }
        add("conv2d_groups_no_bias") { i in [Functional.conv2d(i[0], weight: i[1], padding: (1, 1), groups: 2)] }
        add("conv2d_noncontig") { i in [Functional.conv2d(i[0].transposed(2, 3), weight: i[1], stride: (2, 2))] }
        add("max_pool2d") { i in [Functional.maxPool2d(i[0], kernelSize: (2, 2))] }
        add("max_pool2d_stride_padding") { i in
            [Functional.maxPool2d(i[0], kernelSize: (3, 3), stride: (2, 2), padding: (1, 1))]
        }
        add("max_pool2d_ceil_dilation") { i in
            [Functional.maxPool2d(i[0], kernelSize: (2, 2), stride: (2, 2), dilation: (1, 2), ceilMode: true)]
        }
        add("avg_pool2d") { i in [Functional.avgPool2d(i[0], kernelSize: (2, 2))] }
        add("avg_pool2d_stride_padding_exclude") { i in
            [Functional.avgPool2d(i[0], kernelSize: (3, 3), stride: (2, 2), padding: (1, 1), countIncludePad: false)]
        }
        add("avg_pool2d_ceil") { i in
            [Functional.avgPool2d(i[0], kernelSize: (2, 3), stride: (2, 2), ceilMode: true)]
        }
        add("adaptive_avg_pool2d") { i in [Functional.adaptiveAvgPool2d(i[0], outputSize: (3, 2))] }
        add("adaptive_avg_pool2d_global") { i in [Functional.adaptiveAvgPool2d(i[0], outputSize: (1, 1))] }
        add("batch_norm_train_running_stats") { i in
            let y = Functional.batchNorm(i[0], runningMean: i[3], runningVar: i[4], weight: i[1], bias: i[2],
                                         training: true, momentum: 0.1, eps: 1e-5)
            return [y, i[3], i[4]]  // the running stats after the in-place update
        }
        add("batch_norm_train_2d_momentum") { i in
            let y = Functional.batchNorm(i[0], runningMean: i[1], runningVar: i[2], training: true, momentum: 0.3)
            return [y, i[1], i[2]]
        }
        add("batch_norm_train_no_stats") { i in
            [Functional.batchNorm(i[0], runningMean: nil, runningVar: nil, weight: i[1], bias: i[2], training: true)]
        }
        add("batch_norm_eval") { i in
            let y = Functional.batchNorm(i[0], runningMean: i[3], runningVar: i[4], weight: i[1], bias: i[2],
                                         training: false, eps: 1e-3)
            return [y, i[3], i[4]]
        }
        add("layer_norm_affine") { i in [Functional.layerNorm(i[0], normalizedShape: [4], weight: i[1], bias: i[2])] }
        add("layer_norm_2dims_plain") { i in [Functional.layerNorm(i[0], normalizedShape: [3, 4], eps: 1e-3)] }
        add("layer_norm_noncontig") { i in
            [Functional.layerNorm(i[0].transposed(1, 2), normalizedShape: [3], weight: i[1], bias: i[2])]
        }
        add("dropout_p0_training") { i in [Functional.dropout(i[0], p: 0, training: true)] }
        add("dropout_eval") { i in [Functional.dropout(i[0], p: 0.5, training: false)] }
        add("dropout_seeded") { i in
            let g = Generator(seed: 7)
            return [Functional.dropout(i[0], p: 0.5, training: true, generator: g)]
        }
        add("dropout_seeded_p03") { i in
            let g = Generator(seed: 8)
            return [Functional.dropout(i[0], p: 0.3, training: true, generator: g)]
        }
        add("relu") { i in [Functional.relu(i[0])] }
        add("relu_method") { i in [i[0].relu()] }
        add("leaky_relu") { i in [Functional.leakyRelu(i[0], negativeSlope: 0.2)] }
        add("leaky_relu_default") { i in [Functional.leakyRelu(i[0])] }
        add("gelu_exact") { i in [Functional.gelu(i[0])] }
        add("gelu_tanh") { i in [Functional.gelu(i[0], tanhApproximation: true)] }
        add("silu") { i in [Functional.silu(i[0])] }
        add("sigmoid") { i in [Functional.sigmoid(i[0])] }
        add("tanh") { i in [Functional.tanh(i[0])] }
        add("softmax_last") { i in [Functional.softmax(i[0], dim: -1)] }
        add("softmax_dim0") { i in [Functional.softmax(i[0], dim: 0)] }
        add("softmax_method_noncontig") { i in [i[0].T.softmax(dim: 1)] }
        add("log_softmax") { i in [Functional.logSoftmax(i[0], dim: 1)] }
        add("log_softmax_negative_noncontig") { i in [i[0].T.logSoftmax(dim: -1)] }
        add("interpolate_bilinear_down") { i in [Functional.interpolate(i[0], size: (4, 6))] }
        add("interpolate_bilinear_down_antialias") { i in
            [Functional.interpolate(i[0], size: (4, 6), mode: .bilinear, antialias: true)]
        }
        add("interpolate_bilinear_up_align_corners") { i in
            [Functional.interpolate(i[0], size: (9, 11), mode: .bilinear, alignCorners: true)]
        }
        add("one_hot") { i in [Functional.oneHot(i[0], numClasses: 5)] }
        add("one_hot_inferred") { i in [Functional.oneHot(i[0])] }

        // MARK: Losses, each reduction
        for (suffix, r) in [("none", Reduction.none), ("mean", Reduction.mean), ("sum", Reduction.sum)] {
            add("l1_loss_\(suffix)") { i in [Functional.l1Loss(i[0], i[1], reduction: r)] }
            add("mse_loss_\(suffix)") { i in [Functional.mseLoss(i[0], i[1], reduction: r)] }
            add("smooth_l1_loss_\(suffix)") { i in [Functional.smoothL1Loss(i[0], i[1], reduction: r)] }
            add("smooth_l1_loss_beta05_\(suffix)") { i in
                [Functional.smoothL1Loss(i[0], i[1], reduction: r, beta: 0.5)]
            }
            add("huber_loss_\(suffix)") { i in [Functional.huberLoss(i[0], i[1], reduction: r)] }
            add("huber_loss_delta2_\(suffix)") { i in [Functional.huberLoss(i[0], i[1], reduction: r, delta: 2)] }
            add("bce_logits_\(suffix)") { i in [Functional.binaryCrossEntropyWithLogits(i[0], i[1], reduction: r)] }
            add("bce_logits_pos_weight_\(suffix)") { i in
                [Functional.binaryCrossEntropyWithLogits(i[0], i[1], posWeight: i[2], reduction: r)]
            }
            add("bce_logits_weight_pos_weight_\(suffix)") { i in
                [Functional.binaryCrossEntropyWithLogits(i[0], i[1], weight: i[2], posWeight: i[3], reduction: r)]
            }
            add("cross_entropy_\(suffix)") { i in [Functional.crossEntropy(i[0], i[1], reduction: r)] }
            add("cross_entropy_weight_\(suffix)") { i in
                [Functional.crossEntropy(i[0], i[1], weight: i[2], reduction: r)]
            }
            add("cross_entropy_ignore_index_\(suffix)") { i in
                [Functional.crossEntropy(i[0], i[1], reduction: r, ignoreIndex: -1)]
            }
            add("cross_entropy_label_smoothing_\(suffix)") { i in
                [Functional.crossEntropy(i[0], i[1], reduction: r, labelSmoothing: 0.1)]
            }
            add("cross_entropy_all_options_\(suffix)") { i in
                [Functional.crossEntropy(i[0], i[1], weight: i[2], reduction: r, ignoreIndex: 2, labelSmoothing: 0.2)]
            }
            add("cross_entropy_kdim_\(suffix)") { i in [Functional.crossEntropy(i[0], i[1], reduction: r)] }
            add("cross_entropy_probs_\(suffix)") { i in [Functional.crossEntropy(i[0], i[1], reduction: r)] }
            add("nll_loss_\(suffix)") { i in [Functional.nllLoss(i[0], i[1], reduction: r)] }
            add("nll_loss_weight_ignore_\(suffix)") { i in
                [Functional.nllLoss(i[0], i[1], weight: i[2], reduction: r, ignoreIndex: 1)]
            }
        }
        add("cross_entropy_noncontig") { i in [Functional.crossEntropy(i[0].T, i[1])] }
        return table
    }
}

@Suite("Op parity with PyTorch")
struct OpParityTests {
    static func fixture() throws -> [String: Tensor] { try PythonReference.fixture("ops") }

    /// Case names present in the fixture (the part of each key before the first '/').
    static func fixtureCaseNames(_ fx: [String: Tensor]) -> Set<String> {
        Set(fx.keys.compactMap { $0.split(separator: "/", maxSplits: 1).first.map(String.init) })
    }

    @Test("every fixture case has a Swift closure and vice versa")
    func tableMatchesFixture() throws {
        let inFixture = Self.fixtureCaseNames(try Self.fixture())
        let inSwift = Set(OpTable.names)
        #expect(OpTable.names.count == inSwift.count, "duplicate case names in OpTable")
        let missingInSwift = inFixture.subtracting(inSwift).sorted()
        let missingInPython = inSwift.subtracting(inFixture).sorted()
        #expect(missingInSwift.isEmpty, "fixture cases without a Swift closure: \(missingInSwift)")
        #expect(missingInPython.isEmpty, "Swift cases missing from ops.py: \(missingInPython)")
    }

    /// Whether `outputs` equal the fixture's (without recording issues).
    @Test("op matches PyTorch, forward and backward", arguments: OpTable.names)
    func op(_ name: String) throws {
        let fx = try Self.fixture()
        let op = try #require(OpTable.byName[name])

        // Inputs: cloned (the fixture is cached and shared; some ops update inputs in place),
        // and marked as requiring grad exactly where Python computed a gradient.
        var inputs: [Tensor] = []
        var gradIndices: [Int] = []
        while let t = fx["\(name)/in\(inputs.count)"] {
            let x = t.clone()
            if fx["\(name)/grad\(inputs.count)"] != nil {
                x.requiresGrad = true
                gradIndices.append(inputs.count)
            }
            inputs.append(x)
        }
        var expectedCount = 0
        while fx["\(name)/out\(expectedCount)"] != nil { expectedCount += 1 }
        try #require(expectedCount > 0 || !inputs.isEmpty, "\(name): not in the fixture")

        let outputs = op.run(inputs)
        try #require(outputs.count == expectedCount, "\(name): \(outputs.count) outputs, Python has \(expectedCount)")
        for (k, out) in outputs.enumerated() {
            expectClose(out, fx["\(name)/out\(k)"]!, rtol: op.rtol, atol: op.atol, "\(name)/out\(k)")
            // Python stores gw<k> exactly for the float outputs that require grad.
            if out.dtype.isFloatingPoint {
                #expect(out.requiresGrad == (fx["\(name)/gw\(k)"] != nil),
                        "\(name)/out\(k): requiresGrad \(out.requiresGrad), differs from Python")
            }
        }

        // Backward: the same weighted sum of outputs as Python, then every input gradient.
        var total: Tensor?
        for (k, out) in outputs.enumerated() {
            guard let gw = fx["\(name)/gw\(k)"] else { continue }
            let term = (out * gw).sum()
            total = total.map { $0 + term } ?? term
        }
        #expect((total != nil) == !gradIndices.isEmpty,
                "\(name): Python has \(gradIndices.count) input gradients but Swift \(total == nil ? "no" : "a") loss")
        guard let total, !gradIndices.isEmpty else { return }
        try total.backward()
        for i in gradIndices {
            let expected = fx["\(name)/grad\(i)"]!
            let actual = inputs[i].grad ?? inputs[i].zerosLike()
            expectClose(actual, expected, rtol: op.rtol, atol: op.atol, "\(name)/grad\(i)")
        }
    }
}
