import Tensor

/// The interpolations of `tf.image.resize` this package implements.
public enum ResizeInterpolation: String, CaseIterable, Sendable {
    case bilinear, nearest
}

extension Tensor {
    /// `tf.image.resize` without antialiasing on channels-last images (rank 3
    /// or 4): TF's half-pixel-center kernels with their float32 arithmetic, so
    /// the values match TensorFlow's. Bilinear interpolates along the width,
    /// then along the height, as TF's kernel does.
    func resizedImages(height: Int, width: Int, interpolation: ResizeInterpolation) throws -> Tensor {
        let h = rank - 3
        let x = try resizedAxis(h + 1, to: width, interpolation)
        return try x.resizedAxis(h, to: height, interpolation)
    }

    private func resizedAxis(_ axis: Int, to outSize: Int, _ interpolation: ResizeInterpolation) throws -> Tensor {
        let inSize = shape[axis]
        if inSize == outSize { return self }
        let scale = Float(inSize) / Float(outSize)
        switch interpolation {
        case .nearest:
            let indices = (0..<outSize).map { i in
                Swift.max(0, Swift.min(Int(((Float(i) + 0.5) * scale).rounded(.down)), inSize - 1))
            }
            return try gather(indices, axis: axis)
        case .bilinear:
            var lower: [Int] = [], upper: [Int] = [], lerp: [Float] = []
            for i in 0..<outSize {
                let source = (Float(i) + 0.5) * scale - 0.5
                let floor = source.rounded(.down)
                lower.append(Swift.max(Int(floor), 0))
                upper.append(Swift.min(Int(source.rounded(.up)), inSize - 1))
                lerp.append(source - floor)
            }
            var lerpShape = [Int](repeating: 1, count: rank)
            lerpShape[axis] = outSize
            let a = try gather(lower, axis: axis), b = try gather(upper, axis: axis)
            return try a + (try b - a) * Tensor(shape: lerpShape, scalars: lerp)
        }
    }
}

/// The box `(top, left, height, width)` that crops an image of `height × width`
/// to the aspect ratio of `targetHeight × targetWidth`, centered, as Keras's
/// `crop_to_aspect_ratio` and `smart_resize` compute it.
public func aspectCropBox(height: Int, width: Int, targetHeight: Int, targetWidth: Int) -> (Int, Int, Int, Int) {
    let cropHeight = Swift.max(Swift.min(height, Int(Float(width * targetHeight) / Float(targetWidth))), 1)
    let cropWidth = Swift.max(Swift.min(width, Int(Float(height * targetWidth) / Float(targetHeight))), 1)
    return (Int(Float(height - cropHeight) / 2), Int(Float(width - cropWidth) / 2), cropHeight, cropWidth)
}

/// The base of the image layers: inputs `[batch, height, width, channels]` or
/// one image `[height, width, channels]` (channels first with
/// `data_format="channels_first"`), each resized to `height × width`.
public class ImageSizingLayer: UnaryLayer {
    /// Deltas pass through (see ``Layer/passesDeltas``): an output is a copy
    /// of an input or a weighted sum of its neighbours.
    public override var passesDeltas: Bool { true }

    /// Output pixels per input pixel.
    public override func passThroughRatio(_ inputShape: Shape) -> Double {
        let h = inputShape.count - (channelsFirst ? 2 : 3)
        guard h >= 0, let inHeight = inputShape[h], let inWidth = inputShape[h + 1], inHeight > 0, inWidth > 0 else { return 1 }
        return Double(height * width) / Double(inHeight * inWidth)
    }

    public let height: Int
    public let width: Int
    public let channelsFirst: Bool
    /// Whether the config was written by tf-keras, which writes fewer keys.
    let keras2: Bool

    public required init(config: LayerConfig) throws {
        height = try config.int("height")
        width = try config.int("width")
        guard height > 0, width > 0 else { throw config.fail(height > 0 ? "width" : "height", "a positive integer") }
        channelsFirst = try config.choice("data_format", ["channels_last", "channels_first"], default: "channels_last")
            == "channels_first"
        keras2 = config.keras2
        try super.init(config: config)
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["height"] = .int(height)
        c["width"] = .int(width)
        if !keras2 { c["data_format"] = .string(channelsFirst ? "channels_first" : "channels_last") }
        return c
    }

    public override func computeOutputShape(_ inputShape: Shape) throws -> Shape {
        try requireImage(inputShape.count)
        var out = inputShape
        let h = inputShape.count - (channelsFirst ? 2 : 3)
        out[h] = height
        out[h + 1] = width
        return out
    }

    public override func call(_ x: Tensor, training: Bool) throws -> Tensor {
        try requireImage(x.rank)
        guard channelsFirst else { return try resize(x) }
        let toLast = x.rank == 4 ? [0, 2, 3, 1] : [1, 2, 0], toFirst = x.rank == 4 ? [0, 3, 1, 2] : [2, 0, 1]
        return try resize(try x.transposed(toLast)).transposed(toFirst)
    }

    /// Resizes channels-last images.
    func resize(_ images: Tensor) throws -> Tensor { preconditionFailure("\(Self.self) must override resize") }

    /// Crops channels-last images to the box `(top, left, height, width)`.
    func crop(_ images: Tensor, _ box: (Int, Int, Int, Int)) throws -> Tensor {
        var begin = [Int](repeating: 0, count: images.rank), size = [Int](repeating: -1, count: images.rank)
        let h = images.rank - 3
        (begin[h], begin[h + 1], size[h], size[h + 1]) = box
        return try images.slice(begin: begin, size: size)
    }

    private func requireImage(_ rank: Int) throws {
        guard rank == 3 || rank == 4 else {
            throw LayerError.shapeMismatch(layer: name, "expects images of rank 3 or 4, got rank \(rank)")
        }
    }
}

/// `keras.layers.Resizing`: resizes images to `height × width` with
/// `bilinear` or `nearest` interpolation (as TensorFlow computes them),
/// optionally cropping or padding them to the target aspect ratio first.
public final class Resizing: ImageSizingLayer {
    public let interpolation: ResizeInterpolation
    public let cropToAspectRatio: Bool
    public let padToAspectRatio: Bool
    public let fillValue: Double

    public convenience init(height: Int, width: Int, interpolation: ResizeInterpolation = .bilinear,
                            cropToAspectRatio: Bool = false, padToAspectRatio: Bool = false, fillValue: Double = 0,
                            name: String? = nil) throws {
        try self.init(config: Self.swiftConfig(name: name, [
            "height": .int(height), "width": .int(width), "interpolation": .string(interpolation.rawValue),
            "crop_to_aspect_ratio": .bool(cropToAspectRatio), "pad_to_aspect_ratio": .bool(padToAspectRatio),
            "fill_value": .double(fillValue),
        ]))
    }

    public required init(config: LayerConfig) throws {
        let method = try config.string("interpolation", default: "bilinear")
        guard let interpolation = ResizeInterpolation(rawValue: method) else {
            throw config.fail("interpolation", "one of \(ResizeInterpolation.allCases.map { $0.rawValue }) "
                              + "(the other TensorFlow methods are not supported)")
        }
        self.interpolation = interpolation
        cropToAspectRatio = try config.bool("crop_to_aspect_ratio", default: false)
        padToAspectRatio = try config.bool("pad_to_aspect_ratio", default: false)
        guard !(cropToAspectRatio && padToAspectRatio) else {
            throw config.fail("pad_to_aspect_ratio", "false when 'crop_to_aspect_ratio' is true")
        }
        fillValue = config.has("fill_value") ? try config.double("fill_value") : 0
        guard try config.string("fill_mode", default: "constant") == "constant" else { throw config.fail("fill_mode", "'constant'") }
        guard try !config.bool("antialias", default: false) else { throw config.fail("antialias", "false (antialiasing is not supported)") }
        try super.init(config: config)
    }

    public override func getConfig() -> JSONObject {
        var c = super.getConfig()
        c["interpolation"] = .string(interpolation.rawValue)
        c["crop_to_aspect_ratio"] = .bool(cropToAspectRatio)
        if !keras2 {
            c["pad_to_aspect_ratio"] = .bool(padToAspectRatio)
            c["fill_mode"] = "constant"
            c["fill_value"] = .double(fillValue)
            c["antialias"] = false
        }
        return c
    }

    override func resize(_ images: Tensor) throws -> Tensor {
        var x = images
        let h = x.rank - 3
        let (inHeight, inWidth) = (x.shape[h], x.shape[h + 1])
        if cropToAspectRatio {
            x = try crop(x, aspectCropBox(height: inHeight, width: inWidth, targetHeight: height, targetWidth: width))
        } else if padToAspectRatio {
            // Keras pads `(padded − size) / 2` (rounded down) on both sides of one axis.
            let padHeight = Swift.max(inHeight, Int(Float(inWidth * height) / Float(width)))
            let padWidth = Swift.max(inWidth, Int(Float(inHeight * width) / Float(height)))
            var paddings = [(Int, Int)](repeating: (0, 0), count: x.rank)
            let top = Int(Float(padHeight - inHeight) / 2), left = Int(Float(padWidth - inWidth) / 2)
            paddings[h] = (top, top)
            paddings[h + 1] = (left, left)
            x = try x.padded(paddings, value: Float(fillValue))
        }
        return try x.resizedImages(height: height, width: width, interpolation: interpolation)
    }
}

/// `keras.layers.CenterCrop`: crops the center `height × width` of each image;
/// an image smaller than that on either axis is instead cropped to the target
/// aspect ratio and resized bilinearly (Keras's `smart_resize`).
public final class CenterCrop: ImageSizingLayer {
    public convenience init(height: Int, width: Int, name: String? = nil) throws {
        try self.init(config: Self.swiftConfig(name: name, ["height": .int(height), "width": .int(width)]))
    }

    override func resize(_ images: Tensor) throws -> Tensor {
        let h = images.rank - 3
        let (inHeight, inWidth) = (images.shape[h], images.shape[h + 1])
        if inHeight >= height && inWidth >= width {
            return try crop(images, ((inHeight - height) / 2, (inWidth - width) / 2, height, width))
        }
        let box = aspectCropBox(height: inHeight, width: inWidth, targetHeight: height, targetWidth: width)
        return try crop(images, box).resizedImages(height: height, width: width, interpolation: .bilinear)
    }
}
