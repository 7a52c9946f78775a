// Transposed convolution (Keras Conv{1,2,3}DTranspose, `keras.ops.conv_transpose`):
// the input gradient of the convolution whose output has the input's shape.

extension Tensor {
    /// Transposed convolution over 1–3 spatial axes, with the TensorFlow
    /// backend's semantics (`tf.nn.conv_transpose` with Keras's output size).
    ///
    /// The output length per axis is Keras's `deconv_output_length`, with
    /// `k' = (k - 1) · dilation + 1`:
    /// - `valid`: `(in - 1) · stride + max(k', stride)`;
    /// - `same`: `in · stride`;
    /// - with `outputPadding` `p`: `(in - 1) · stride + p` plus `k'` (valid) or
    ///   `k' mod 2` (same).
    /// - Parameters:
    ///   - input: `[batch, spatial..., inChannels]`.
    ///   - kernel: `[spatial..., outChannels, inChannels]` (Keras's layout).
    ///   - outputPadding: extra size per axis (one value or one per axis), each
    ///     smaller than its stride; nil for Keras's default.
    /// - Returns: `[batch, outSpatial..., outChannels]`.
    public static func convTranspose(_ input: Tensor, _ kernel: Tensor, strides: [Int] = [1],
                                     padding: Padding = .valid, outputPadding: [Int]? = nil,
                                     dilation: [Int] = [1]) throws -> Tensor {
        let op = "convTranspose"
        let rank = input.rank - 2
        guard (1...3).contains(rank) else {
            throw TensorError.invalidShape(
                "\(op): input must be [batch, spatial..., channels] with 1–3 spatial axes, got shape \(input.shape)")
        }
        guard kernel.rank == input.rank else {
            throw TensorError.shapeMismatch(
                "\(op): kernel of shape \(kernel.shape) must have rank \(input.rank) "
                + "([spatial..., out_channels, in_channels]) for input of shape \(input.shape)")
        }
        guard kernel.shape[rank + 1] == input.shape[rank + 1] else {
            throw TensorError.shapeMismatch(
                "\(op): input of shape \(input.shape) has \(input.shape[rank + 1]) channels but the kernel of shape "
                + "\(kernel.shape) expects \(kernel.shape[rank + 1])")
        }
        guard padding != .causal else {
            throw TensorError.invalidArgument("\(op): padding must be valid or same, got causal")
        }
        let s = try WindowGeometry.perAxis(strides, "strides", rank: rank, op: op)
        let d = try WindowGeometry.perAxis(dilation, "dilation", rank: rank, op: op)
        var extra: [Int]? = nil
        if let outputPadding {
            guard outputPadding.count == 1 || outputPadding.count == rank, outputPadding.allSatisfy({ $0 >= 0 }) else {
                throw TensorError.invalidArgument(
                    "\(op): outputPadding \(outputPadding) must have 1 or \(rank) non-negative entries")
            }
            extra = outputPadding.count == rank ? outputPadding : [Int](repeating: outputPadding[0], count: rank)
        }
        var outputShape = [input.shape[0]]
        for i in 0..<rank {
            let n = input.shape[i + 1], k = (kernel.shape[i] - 1) * d[i] + 1
            if let p = extra?[i] {
                guard p < s[i] else {
                    throw TensorError.invalidArgument("\(op): outputPadding \(p) on axis \(i) must be smaller than its stride \(s[i])")
                }
                outputShape.append((n - 1) * s[i] + (padding == .valid ? k : k % 2) + p)
            } else {
                outputShape.append(padding == .valid ? (n - 1) * s[i] + Swift.max(k, s[i]) : n * s[i])
            }
        }
        outputShape.append(kernel.shape[rank])
        guard outputShape.allSatisfy({ $0 >= 0 }) else {
            throw TensorError.invalidShape("\(op): input \(input.shape) with kernel \(kernel.shape) gives output \(outputShape)")
        }
        let forward = try ConvolutionPlan(op: op, inputShape: outputShape, kernelShape: kernel.shape, strides: s,
                                          padding: padding, dilation: d, groups: 1)
        guard forward.outputShape == input.shape else {
            throw TensorError.invalidArgument(
                "\(op): output \(outputShape) does not map back to the input \(input.shape) under a \(padding) "
                + "convolution with strides \(s) (outputPadding \(outputPadding ?? []))")
        }
        return try convBackpropInput(input, kernel, inputShape: outputShape, strides: s, padding: padding, dilation: d)
    }
}
