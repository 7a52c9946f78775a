/// Draws a ``SyntheticScene`` frame by frame into 8-bit RGB.
///
/// Each frame: the background tile sampled bilinearly at its drifting offset,
/// the distractors (fixed to the background), the object (anti-aliased outline,
/// pattern sampled bilinearly in its own rotated and scaled coordinates), a
/// slow global gain change, then sensor noise and rounding to 8 bits. All work
/// happens in one reused float buffer, with no allocation per pixel.
struct SyntheticRenderer {
    let bank: SyntheticTextureBank
    let height: Int
    let width: Int

    /// Renders all frames of `scene` into `out` (`frameCount * height * width * 3` bytes),
    /// drawing sensor noise from `random`.
    func render(_ scene: SyntheticScene, random: inout SeededRandom, into out: UnsafeMutablePointer<UInt8>) {
        let planeSize = height * width * 3
        var plane = [Float](repeating: 0, count: planeSize)
        var columns = [Int](repeating: 0, count: 2 * width)
        var columnWeights = [Float](repeating: 0, count: width)
        plane.withUnsafeMutableBufferPointer { planeBuffer in
            let buffer = planeBuffer.baseAddress!
            for frame in 0..<scene.frameCount {
                let offset = scene.backgroundOffset(atFrame: frame)
                drawBackground(scene, offset: offset, into: buffer, columns: &columns, columnWeights: &columnWeights)
                for distractor in scene.distractors {
                    // A point fixed in the background moves by -drift / scale pixels per frame.
                    let x = distractor.x - (offset.x - scene.backgroundX) / scene.backgroundScale
                    let y = distractor.y - (offset.y - scene.backgroundY) / scene.backgroundScale
                    drawObject(distractor.shape, pattern: bank.pattern(distractor.texture, variant: distractor.variant),
                               colorA: distractor.colorA, colorB: distractor.colorB,
                               state: .init(x: x, y: y, radius: distractor.radius, angle: distractor.angle, brightness: 1),
                               into: buffer)
                }
                drawObject(scene.shape, pattern: bank.pattern(scene.texture, variant: scene.textureVariant),
                           colorA: scene.colorA, colorB: scene.colorB,
                           state: scene.objectState(atFrame: frame), into: buffer)
                let gain = Float(1 + scene.gainDrift * scene.centredTime(frame))
                quantize(buffer, gain: gain, noise: Float(scene.noiseSigma), random: &random,
                         into: out + frame * planeSize)
            }
        }
    }

    /// Fills the plane with the background tile sampled at `offset` + pixel × scale texels.
    private func drawBackground(_ scene: SyntheticScene, offset: (x: Double, y: Double),
                                into plane: UnsafeMutablePointer<Float>,
                                columns: inout [Int], columnWeights: inout [Float]) {
        let n = SyntheticTextureBank.backgroundSize
        let mask = n - 1
        let scale = scene.backgroundScale
        for x in 0..<width {
            let fx = offset.x + Double(x) * scale
            let ix = Int(fx.rounded(.down))
            columns[2 * x] = (ix & mask) * 3
            columns[2 * x + 1] = ((ix + 1) & mask) * 3
            columnWeights[x] = Float(fx - Double(ix))
        }
        bank.backgrounds[scene.backgroundTile].withUnsafeBufferPointer { tileBuffer in
            let tile = tileBuffer.baseAddress!
            for y in 0..<height {
                let fy = offset.y + Double(y) * scale
                let iy = Int(fy.rounded(.down))
                let wy = Float(fy - Double(iy))
                let row0 = tile + (iy & mask) * n * 3
                let row1 = tile + ((iy + 1) & mask) * n * 3
                let target = plane + y * width * 3
                for x in 0..<width {
                    let c0 = columns[2 * x]
                    let c1 = columns[2 * x + 1]
                    let wx = columnWeights[x]
                    for c in 0..<3 {
                        let top = row0[c0 + c] + (row0[c1 + c] - row0[c0 + c]) * wx
                        let bottom = row1[c0 + c] + (row1[c1 + c] - row1[c0 + c]) * wx
                        target[x * 3 + c] = top + (bottom - top) * wy
                    }
                }
            }
        }
    }

    /// Blends one object over the plane: anti-aliased `shape`, its `pattern`
    /// painted from `colorB` (0) to `colorA` (1), scaled by the state's brightness.
    private func drawObject(_ shape: SyntheticShape, pattern: [Float], colorA: [Float], colorB: [Float],
                            state: SyntheticScene.ObjectState, into plane: UnsafeMutablePointer<Float>) {
        guard state.radius > 0.5 else { return }
        let extent = state.radius * 1.3 + 1
        let xStart = max(0, Int((state.x - extent).rounded(.down)))
        let xEnd = min(width - 1, Int((state.x + extent).rounded(.up)))
        let yStart = max(0, Int((state.y - extent).rounded(.down)))
        let yEnd = min(height - 1, Int((state.y + extent).rounded(.up)))
        guard xStart <= xEnd, yStart <= yEnd else { return }

        let rotation = PortableMath.sinCos(state.angle)
        let radius = Float(state.radius)
        let inverseRadius = 1 / radius
        let sinA = Float(rotation.sin) * inverseRadius
        let cosA = Float(rotation.cos) * inverseRadius
        let cx = Float(state.x), cy = Float(state.y)
        let brightness = Float(state.brightness)
        let a0 = colorA[0] * brightness, a1 = colorA[1] * brightness, a2 = colorA[2] * brightness
        let b0 = colorB[0] * brightness, b1 = colorB[1] * brightness, b2 = colorB[2] * brightness
        let n = SyntheticTextureBank.patternSize
        let extentUnits = SyntheticTextureBank.patternExtent
        let texelsPerUnit = Float(n - 1) / (2 * extentUnits)
        let maxTexel = Float(n - 1) - 0.001

        pattern.withUnsafeBufferPointer { patternBuffer in
            let texels = patternBuffer.baseAddress!
            for y in yStart...yEnd {
                let dy = Float(y) - cy
                let row = plane + y * width * 3
                for x in xStart...xEnd {
                    let dx = Float(x) - cx
                    // Object coordinates: rotate back by the angle, divide by the radius.
                    let u = cosA * dx + sinA * dy
                    let v = -sinA * dx + cosA * dy
                    let coverage = min(max(0.5 - shape.distance(u, v) * radius, 0), 1)
                    if coverage <= 0 { continue }
                    let tx = min(max((u + extentUnits) * texelsPerUnit, 0), maxTexel)
                    let ty = min(max((v + extentUnits) * texelsPerUnit, 0), maxTexel)
                    let ix = Int(tx), iy = Int(ty)
                    let wx = tx - Float(ix), wy = ty - Float(iy)
                    let p00 = texels[iy * n + ix], p01 = texels[iy * n + ix + 1]
                    let p10 = texels[(iy + 1) * n + ix], p11 = texels[(iy + 1) * n + ix + 1]
                    let top = p00 + (p01 - p00) * wx
                    let p = top + (p10 + (p11 - p10) * wx - top) * wy
                    let pixel = row + x * 3
                    pixel[0] += (b0 + (a0 - b0) * p - pixel[0]) * coverage
                    pixel[1] += (b1 + (a1 - b1) * p - pixel[1]) * coverage
                    pixel[2] += (b2 + (a2 - b2) * p - pixel[2]) * coverage
                }
            }
        }
    }

    /// Applies the gain, adds approximately Gaussian noise of deviation `noise`
    /// (table samples chosen by 12 random bits each, five per random draw),
    /// rounds and clamps into 8 bits.
    private func quantize(_ plane: UnsafeMutablePointer<Float>, gain: Float, noise: Float,
                          random: inout SeededRandom, into out: UnsafeMutablePointer<UInt8>) {
        let count = height * width * 3
        let mask = UInt64(SyntheticTextureBank.noiseTableSize - 1)
        bank.noise.withUnsafeBufferPointer { tableBuffer in
            let table = tableBuffer.baseAddress!
            var i = 0
            while i < count {
                var bits = random.next()
                for _ in 0..<min(5, count - i) {
                    let value = plane[i] * gain + table[Int(bits & mask)] * noise
                    out[i] = UInt8(min(max(value, 0), 255) + 0.5)
                    bits >>= 12
                    i += 1
                }
            }
        }
    }
}
