import Tensor

/// A convolution node of a functional graph that runs at inference with the
/// nodes around it: a ZeroPadding before it; after it a BatchNormalization
/// over the channel axis, a two-input Add whose other input is already
/// computed (a residual connection), and a ReLU (plain or capped), each the
/// only reader of the tensor before it. The padding becomes the convolution's
/// `zeroPadding`, the rest its ``ChannelEpilogue``, so the output is
/// bit-identical and never takes the extra passes over memory.
struct FusedConvolution {
    let layer: EpilogueConvolution
    /// The nodes run inside the chain's first node, in graph order.
    let absorbed: [Node]
    let zeroPadding: [Margin]?
    let batchNorm: BatchNormalization?
    /// The id of the Add's other input.
    let residualID: Int?
    let reluCap: Float?
    /// A delta layer after the rectifier: its quantization ends the epilogue.
    let delta: DeltaActivation?
    /// The id of the tensor the chain produces.
    let outputID: Int

    /// Runs the chain on its first node's input.
    func run(_ x: Tensor, residual: Tensor?) throws -> Tensor {
        let affine = batchNorm.map { bn in
            BatchNormAffine(mean: bn.movingMean.value.scalars, variance: bn.movingVariance.value.scalars,
                            gamma: bn.gamma?.value.scalars, beta: bn.beta?.value.scalars, epsilon: bn.epsilon)
        }
        let epilogue = ChannelEpilogue(bias: layer.bias?.value.scalars, scale: affine?.inv, shift: affine?.shift,
                                       residual: residual, reluCap: reluCap,
                                       quantizeStep: try delta.map { try $0.channelSteps(channels: layer.outputChannels) })
        return try layer.convolve(x, zeroPadding: zeroPadding?.map { ($0.before, $0.after) }, epilogue: epilogue)
    }

    /// The chains of `order` keyed by their first node; `consumers` counts the
    /// readers of each tensor id, model outputs included.
    static func plan(_ order: [Node], consumers: [Int: Int]) -> [ObjectIdentifier: FusedConvolution] {
        var reader: [Int: Node] = [:], position: [Int: Int] = [:]
        for (i, node) in order.enumerated() {
            for t in node.inputs { reader[t.id] = node }
            for id in node.outputIDs { position[id] = i }
        }
        /// The node that is the only reader of `id`, when it has one input and one output.
        func soleReader(of id: Int, inputs: Int = 1) -> Node? {
            guard consumers[id] == 1, let node = reader[id], node.inputs.count == inputs, node.outputIDs.count == 1,
                  node.layer.activityRegularizer == nil else { return nil }
            return node
        }
        var plan: [ObjectIdentifier: FusedConvolution] = [:]
        for (index, node) in order.enumerated()
        where node.inputs.count == 1 && node.outputIDs.count == 1 && node.layer.activityRegularizer == nil {
            var first = node, absorbed: [Node] = [], zeroPadding: [Margin]?
            if let padding = node.layer as? BaseZeroPadding, let next = soleReader(of: node.outputIDs[0]),
               next.layer is EpilogueConvolution {
                (first, zeroPadding) = (next, padding.margins)
                absorbed.append(next)
            }
            guard let layer = first.layer as? EpilogueConvolution else { continue }
            var batchNorm: BatchNormalization?, residualID: Int?, cap: Float?
            var output = first.outputIDs[0]
            if layer.activation.function != .linear {
                guard let activationCap = reluCap(of: layer.activation) else { continue }
                cap = activationCap
            } else {
                if let next = soleReader(of: output), let bn = next.layer as? BatchNormalization,
                   isChannelsLast(bn, rank: next.inputs[0].shape.count) {
                    (batchNorm, output) = (bn, next.outputIDs[0])
                    absorbed.append(next)
                }
                // The other input of the Add must exist when the chain runs: made
                // by an earlier node, or by an earlier chain that absorbed its maker.
                if let add = soleReader(of: output, inputs: 2), add.layer is Add,
                   let other = add.inputs.first(where: { $0.id != output }),
                   add.inputs.allSatisfy({ $0.shape == other.shape && !$0.shape.dropFirst().contains(nil) }),
                   position[other.id].map({ $0 < index }) ?? true {
                    (residualID, output) = (other.id, add.outputIDs[0])
                    absorbed.append(add)
                }
                if let next = soleReader(of: output), let nextCap = reluCap(of: next.layer) {
                    (cap, output) = (nextCap, next.outputIDs[0])
                    absorbed.append(next)
                }
            }
            var delta: DeltaActivation?
            if cap != nil, let next = soleReader(of: output), let d = next.layer as? DeltaActivation, d.quantizesPerChannel {
                (delta, output) = (d, next.outputIDs[0])
                absorbed.append(next)
            }
            guard zeroPadding != nil || layer.bias != nil || batchNorm != nil || cap != nil else { continue }
            plan[ObjectIdentifier(node)] = FusedConvolution(layer: layer, absorbed: absorbed, zeroPadding: zeroPadding,
                                                            batchNorm: batchNorm, residualID: residualID, reluCap: cap,
                                                            delta: delta, outputID: output)
            // Tensors the chain makes exist from its first node on.
            for n in absorbed { for id in n.outputIDs { position[id] = index } }
        }
        // A convolution absorbed by its padding does not start a chain of its own.
        for chain in Array(plan.values) where chain.zeroPadding != nil {
            plan[ObjectIdentifier(chain.absorbed[0])] = nil
        }
        return plan
    }

    private static func isChannelsLast(_ bn: BatchNormalization, rank: Int) -> Bool {
        bn.built && (try? resolveAxis(bn.axis, rank: rank, layer: bn.name)) == rank - 1
    }

    /// The cap of a ReLU layer or activation: ∞ for a plain one; nil for anything else.
    private static func reluCap(of layer: Layer) -> Float? {
        if let relu = layer as? ReLU, relu.negativeSlope == 0, relu.threshold == 0 {
            return relu.maxValue.map { Float($0) } ?? .infinity
        }
        if let activation = layer as? ActivationLayer { return reluCap(of: activation.activation) }
        return nil
    }

    private static func reluCap(of activation: ActivationFunction) -> Float? {
        switch activation.function {
        case .relu: return .infinity
        case .relu6: return 6
        default: return nil
        }
    }
}

/// A convolution layer that can run with a ``ChannelEpilogue`` in place of
/// its bias and activation.
protocol EpilogueConvolution: ConvolutionLayer {
    /// The number of output channels.
    var outputChannels: Int { get }
    /// The convolution of `x`, zero-padded first, followed by `epilogue` (which includes the bias).
    func convolve(_ x: Tensor, zeroPadding: [(Int, Int)]?, epilogue: ChannelEpilogue) throws -> Tensor
}

extension BaseConv: EpilogueConvolution {
    var outputChannels: Int { filters }
    func convolve(_ x: Tensor, zeroPadding: [(Int, Int)]?, epilogue: ChannelEpilogue) throws -> Tensor {
        try checkInput(x, channels: kernel.shape[Self.rank] * groups, window: zeroPadding == nil)
        return try Tensor.conv(x, kernel.value, strides: strides, padding: padding, dilation: dilationRate,
                               groups: groups, zeroPadding: zeroPadding, epilogue: epilogue,
                               kernelCache: (winogradKernel, kernel.version))
    }
}

extension BaseDepthwiseConv: EpilogueConvolution {
    var outputChannels: Int { kernel.shape[Self.rank] * depthMultiplier }
    func convolve(_ x: Tensor, zeroPadding: [(Int, Int)]?, epilogue: ChannelEpilogue) throws -> Tensor {
        try checkInput(x, channels: kernel.shape[Self.rank], window: zeroPadding == nil)
        return try Tensor.depthwiseConv(x, kernel.value, strides: strides, padding: padding, dilation: dilationRate,
                                        zeroPadding: zeroPadding, epilogue: epilogue)
    }
}
